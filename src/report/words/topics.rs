//! The contact-driver words (`topics.html`, the index's link to it and the agents' per-topic
//! sections in HTML and Markdown), per language. The page is "Contact drivers" in English and
//! "咨询主题" in Chinese everywhere (calls, chats and mails alike, so not 来电原因).

use super::Lang;

#[derive(Debug, serde::Serialize)]
pub(crate) struct TopicWords {
    pub title: &'static str,
    pub back: &'static str,
    /// The index's link to the page.
    pub link: &'static str,
    /// `{0}` conversations, `{1}` topics, `{2}` the topics.json mode (fit or assign).
    pub meta: &'static str,
    pub intro: &'static str,
    pub topics: &'static str,
    pub topic: &'static str,
    pub keywords: &'static str,
    pub size: &'static str,
    pub share: &'static str,
    pub rising: &'static str,
    pub trend: &'static str,
    /// `{0}`: the period word (week, day, month).
    pub trend_title: &'static str,
    pub trend_note: &'static str,
    pub outcomes: &'static str,
    pub qa_score: &'static str,
    pub resolution: &'static str,
    pub escalation: &'static str,
    pub sentiment_change: &'static str,
    pub csat: &'static str,
    pub repeat_contact: &'static str,
    pub quotes: &'static str,
    pub modules: &'static str,
    pub no_module: &'static str,
    /// `{0}` the covered share, `{1}` covered conversations, `{2}` of, `{3}` the mapping file.
    pub coverage: &'static str,
    pub coverage_none: &'static str,
    /// Before the list of the largest topics without a module.
    pub uncovered: &'static str,
    pub unassigned: &'static str,
    /// `{0}` conversations, `{1}` their share.
    pub unassigned_intro: &'static str,
    pub languages: &'static str,
    // Agent pages.
    pub agent_section: &'static str,
    pub agent_intro: &'static str,
    pub agent: &'static str,
    pub team: &'static str,
    pub conversations: &'static str,
    /// `{0}` actual, `{1}` expected, `{2}` difference, `{3}` conversations.
    pub adjusted: &'static str,
    pub adjusted_means: &'static str,
    pub no_topics: &'static str,
}

const EN: TopicWords = TopicWords {
    title: "Contact drivers",
    back: "← Team overview",
    link: "Contact drivers: what customers contact us about",
    meta: "{0} conversations · {1} topics ({2})",
    intro: "Topics found in what customers said (convqa topics), largest first: what each is about, how often it comes up, how its conversations went, and which training modules prepare agents for it.",
    topics: "Topics",
    topic: "Topic",
    keywords: "Keywords",
    size: "Conversations",
    share: "Share",
    rising: "rising",
    trend: "Share per period",
    trend_title: "Share of conversations per {0}",
    trend_note: "A topic flagged rising grew by at least 2 points from the previous period, with at least 5 conversations, beyond chance (two-proportion z ≥ 1.96).",
    outcomes: "Outcomes per topic",
    qa_score: "QA score",
    resolution: "Resolved",
    escalation: "Escalated",
    sentiment_change: "Sentiment change",
    csat: "CSAT",
    repeat_contact: "Repeat contact",
    quotes: "What customers said",
    modules: "Training modules",
    no_module: "none",
    coverage: "Training coverage: {0} of conversations ({1} of {2}) are on a topic with at least one training module ({3}).",
    coverage_none: "No topic-to-module mapping was given (topic_modules.toml), so training coverage is not shown.",
    uncovered: "Largest topics without a module:",
    unassigned: "Fits no topic: possibly new",
    unassigned_intro: "{0} conversations ({1}) are not close enough to any topic of the saved model. If their words agree, this may be a new contact driver.",
    languages: "Languages",
    agent_section: "Results per topic",
    agent_intro: "Per contact driver (convqa topics): this agent's conversations, mean QA score, resolution and escalation rates beside the team's on the same topic.",
    agent: "Agent",
    team: "Team",
    conversations: "Conversations",
    adjusted: "Topic-mix adjusted QA score: actual {0}, expected {1}, difference {2} ({3} conversations).",
    adjusted_means: "Expected is what the team would score on this agent's mix of topics (each topic's team mean, weighted by the agent's conversations on it), so a difference above zero means better than the team on the same topics, whatever their difficulty.",
    no_topics: "None of this agent's conversations has a topic.",
};

const ZH: TopicWords = TopicWords {
    title: "咨询主题",
    back: "← 团队总览",
    link: "咨询主题：客户因为什么联系我们",
    meta: "{0} 通会话 · {1} 个主题（{2}）",
    intro: "从客户所说的话中找出的主题（convqa topics），按规模从大到小：每个主题讲什么、出现多频繁、会话结果如何，以及哪些培训课程对应该主题。",
    topics: "主题",
    topic: "主题",
    keywords: "关键词",
    size: "会话数",
    share: "占比",
    rising: "上升",
    trend: "各期占比",
    trend_title: "每{0}的会话占比",
    trend_note: "标记为上升的主题：占比比上一期至少增加 2 个百分点，至少 5 通会话，且超出随机波动（两比例 z ≥ 1.96）。",
    outcomes: "各主题的结果",
    qa_score: "质检得分",
    resolution: "解决率",
    escalation: "升级率",
    sentiment_change: "情绪变化",
    csat: "满意度",
    repeat_contact: "重复来电",
    quotes: "客户原话",
    modules: "培训课程",
    no_module: "无",
    coverage: "培训覆盖：{0} 的会话（{2} 通中的 {1} 通）所属主题至少有一门培训课程（{3}）。",
    coverage_none: "未提供主题与课程的对应表（topic_modules.toml），因此不显示培训覆盖。",
    uncovered: "没有课程的最大主题：",
    unassigned: "不属于任何主题：可能是新主题",
    unassigned_intro: "{0} 通会话（{1}）与已保存模型的任何主题都不够接近。如果它们的用词一致，可能是一个新的咨询主题。",
    languages: "语言",
    agent_section: "各主题的结果",
    agent_intro: "按咨询主题（convqa topics）：该坐席的会话数、平均质检得分、解决率和升级率，与团队在同一主题上的数字并列。",
    agent: "坐席",
    team: "团队",
    conversations: "会话数",
    adjusted: "按主题构成调整的质检得分：实际 {0}，预期 {1}，差值 {2}（{3} 通会话）。",
    adjusted_means: "预期得分是团队在该坐席的主题构成下的得分（各主题的团队平均分，按该坐席在各主题上的会话数加权），差值大于零表示在相同主题上好于团队，与主题难度无关。",
    no_topics: "该坐席的会话都没有主题。",
};

pub(crate) fn topic_words(lang: Lang) -> &'static TopicWords {
    match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH,
    }
}
