use super::*;
use serde_json::json;

fn adapted(v: Value) -> (Value, Vec<String>) {
    adapt(&v).expect("recognised").expect("converted")
}

fn speakers(v: &Value) -> Vec<&str> {
    v["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["speaker"].as_str().unwrap())
        .collect()
}

#[test]
fn contact_lens_voice_and_chat() {
    // Shape of Amazon Connect's published voice example (trimmed).
    let voice = json!({
        "Version": "1.1.0", "AccountId": "123", "Channel": "VOICE", "ContentMetadata": {"Output": "Raw"},
        "JobStatus": "COMPLETED", "LanguageCode": "en-US",
        "Participants": [{"ParticipantId": "CUSTOMER", "ParticipantRole": "CUSTOMER"},
                         {"ParticipantId": "AGENT", "ParticipantRole": "AGENT"}],
        "Categories": {"MatchedCategories": ["Cancellation"], "MatchedDetails": {}},
        "CustomerMetadata": {"InputS3Uri": "s3://b/k.wav", "ContactId": "c-1", "InstanceId": "i-1"},
        "Transcript": [
            {"BeginOffsetMillis": 0, "EndOffsetMillis": 3000, "Content": "Thank you for calling, this is Ann.",
             "Id": "a", "ParticipantId": "AGENT", "Sentiment": "NEUTRAL"},
            {"BeginOffsetMillis": 3200, "EndOffsetMillis": 7000, "Content": "I want to cancel my plan.",
             "Id": "b", "ParticipantId": "CUSTOMER", "Sentiment": "NEGATIVE"}
        ]
    });
    let (v, warnings) = adapted(voice);
    assert_eq!(v["conversation_id"], "c-1");
    assert_eq!(v["channel"], "voice");
    assert_eq!(v["agent_id"], UNKNOWN_AGENT);
    assert!(warnings[0].contains("names no agent"), "{warnings:?}");
    assert_eq!(speakers(&v), ["agent", "customer"]);
    assert_eq!(v["turns"][1]["start_ms"], 3200);
    assert_eq!(v["turns"][1]["end_ms"], 7000);
    assert_eq!(
        v["metadata"]["vendor"]["MatchedCategories"][0],
        "Cancellation"
    );
    // Chat: participant ids are UUIDs, times absolute; system and bot turns stay out of the agent's.
    let chat = json!({
        "Version": "1.1.0", "Channel": "CHAT", "JobStatus": "COMPLETED", "LanguageCode": "en-US",
        "Participants": [{"ParticipantId": "u-cust", "ParticipantRole": "CUSTOMER"},
                         {"ParticipantId": "u-agent", "ParticipantRole": "AGENT"},
                         {"ParticipantId": "u-bot", "ParticipantRole": "CUSTOM_BOT"}],
        "CustomerMetadata": {"ContactId": "c-2", "InstanceId": "i-1"},
        "Transcript": [
            {"AbsoluteTime": "2024-03-15T14:30:05.000Z", "Content": "Hi, how can I help?", "ParticipantId": "u-bot", "Id": "1"},
            {"AbsoluteTime": "2024-03-15T14:30:09.500Z", "Content": "my order is late", "ParticipantId": "u-cust", "Id": "2"},
            {"AbsoluteTime": "2024-03-15T14:31:00.000Z", "Content": "Connecting you", "ParticipantRole": "SYSTEM", "ParticipantId": "sys", "Id": "3"},
            {"AbsoluteTime": "2024-03-15T14:31:05.250Z", "Content": "Sorry about that, let me check.", "ParticipantId": "u-agent", "Id": "4"}
        ]
    });
    let (v, _) = adapted(chat);
    assert_eq!(v["channel"], "chat");
    assert_eq!(speakers(&v), ["bot", "customer", "system", "agent"]);
    assert_eq!(v["turns"][0]["start_ms"], 0);
    assert_eq!(v["turns"][1]["start_ms"], 4500);
    assert_eq!(v["turns"][3]["start_ms"], 60_250);
    // An unknown participant is an error, not a guess.
    let bad = json!({"JobStatus": "COMPLETED", "Participants": [], "CustomerMetadata": {"ContactId": "x"},
                     "Transcript": [{"Content": "hi", "ParticipantId": "nobody"}]});
    assert!(adapt(&bad).unwrap().is_err());
}

#[test]
fn transcribe_call_analytics() {
    let v = json!({
        "JobName": "call-42", "AccountId": "1", "JobStatus": "COMPLETED", "LanguageCode": "zh-CN",
        "Transcript": [
            {"Id": "1", "ParticipantRole": "AGENT", "Content": "您好，请问有什么可以帮您？", "BeginOffsetMillis": 100, "EndOffsetMillis": 2100, "Sentiment": "NEUTRAL"},
            {"Id": "2", "ParticipantRole": "CUSTOMER", "Content": "宽带断了", "BeginOffsetMillis": 2500, "EndOffsetMillis": 3600, "Sentiment": "NEGATIVE"}
        ],
        "Categories": {"MatchedCategories": []}, "ConversationCharacteristics": {}
    });
    let (v, warnings) = adapted(v);
    assert_eq!(v["conversation_id"], "call-42");
    assert_eq!(speakers(&v), ["agent", "customer"]);
    assert_eq!(v["turns"][0]["start_ms"], 100);
    assert_eq!(v["metadata"]["vendor"]["Sentiment"][1], "NEGATIVE");
    assert_eq!(warnings.len(), 1);
}

#[test]
fn ccai_insights_call_and_chat() {
    let call = json!({
        "name": "projects/p/locations/us-central1/conversations/conv-9",
        "agentId": "agent-007", "medium": "PHONE_CALL", "languageCode": "en-US",
        "startTime": "2024-03-15T14:30:00Z",
        "callMetadata": {"customerChannel": 1, "agentChannel": 2},
        "transcript": {"transcriptSegments": [
            {"text": "hello thanks for calling", "channelTag": 2,
             "words": [{"word": "hello", "startOffset": "0.400s", "endOffset": "0.800s"},
                       {"word": "calling", "startOffset": "1.500s", "endOffset": "2s"}]},
            {"text": "my bill is wrong", "segmentParticipant": {"role": "END_USER"},
             "words": [{"word": "my", "startOffset": "2.5s", "endOffset": "2.7s"},
                       {"word": "wrong", "startOffset": "3.1s", "endOffset": "3.600s"}]}
        ]}
    });
    let (v, warnings) = adapted(call);
    assert!(warnings.is_empty());
    assert_eq!(v["conversation_id"], "conv-9");
    assert_eq!(v["agent_id"], "agent-007");
    assert_eq!(v["channel"], "voice");
    assert_eq!(speakers(&v), ["agent", "customer"]);
    assert_eq!(
        (
            v["turns"][0]["start_ms"].as_u64(),
            v["turns"][0]["end_ms"].as_u64()
        ),
        (Some(400), Some(2000))
    );
    assert_eq!(v["started_at"], "2024-03-15T14:30:00Z");
    let chat = json!({
        "name": "projects/p/locations/l/conversations/c2", "medium": "CHAT",
        "transcript": {"transcriptSegments": [
            {"text": "Hi", "segmentParticipant": {"role": "AUTOMATED_AGENT"}, "messageTime": "2024-03-15T14:30:00Z"},
            {"text": "refund please", "segmentParticipant": {"role": "END_USER"}, "messageTime": "2024-03-15T22:30:03+08:00"},
            {"text": "Sure", "segmentParticipant": {"role": "HUMAN_AGENT"}, "messageTime": "2024-03-15T14:30:10.5Z"}
        ]}
    });
    let (v, warnings) = adapted(chat);
    assert_eq!(v["agent_id"], UNKNOWN_AGENT);
    assert_eq!(warnings.len(), 1);
    assert_eq!(speakers(&v), ["bot", "customer", "agent"]);
    assert_eq!(v["turns"][1]["start_ms"], 3000);
    assert_eq!(v["turns"][2]["start_ms"], 10_500);
}

#[test]
fn our_own_format_is_not_taken_for_a_vendor_and_times_parse() {
    assert!(adapt(&json!({"conversation_id": "x", "agent_id": "a", "turns": []})).is_none());
    assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(epoch_ms("2000-03-01T00:00:00.5Z"), Some(951_868_800_500));
    assert_eq!(epoch_ms("2000-03-01T08:00:00+08:00"), Some(951_868_800_000));
    assert_eq!(epoch_ms("yesterday"), None);
    assert_eq!(duration_ms("1.5s"), Some(1500));
    assert_eq!(duration_ms("12"), None);
}

#[test]
fn transcribe_output_with_participants_and_job_status_is_not_taken_for_contact_lens() {
    // Amazon Transcribe's published Call Analytics output has `Participants` (roles only) and
    // `JobStatus`, as Contact Lens output does, but a `JobName` and no `CustomerMetadata`.
    let v = json!({
        "JobStatus": "COMPLETED", "LanguageCode": "en-US", "AccountId": "1", "Channel": "VOICE",
        "JobName": "call-analytics-job-name",
        "Participants": [{"ParticipantRole": "AGENT"}, {"ParticipantRole": "CUSTOMER"}],
        "Transcript": [
            {"Id": "a", "ParticipantRole": "CUSTOMER", "Content": "Hey Mr [PII]? I lost my card.", "BeginOffsetMillis": 6040, "EndOffsetMillis": 11650, "Sentiment": "NEUTRAL"},
            {"Id": "b", "ParticipantRole": "AGENT", "Content": "I am very sorry to hear that.", "BeginOffsetMillis": 12040, "EndOffsetMillis": 20230, "Sentiment": "NEGATIVE"}
        ],
        "Categories": {"MatchedCategories": ["matchedCategoryA"], "MatchedDetails": {}},
        "ContentMetadata": {"Output": "Redacted", "RedactionTypes": ["PII"]}
    });
    let (v, _) = adapted(v);
    assert_eq!(v["conversation_id"], "call-analytics-job-name");
    assert_eq!(
        v["metadata"]["vendor"]["format"],
        "amazon_transcribe_call_analytics"
    );
    assert_eq!(speakers(&v), ["customer", "agent"]);
    assert_eq!(v["turns"][1]["start_ms"], 12_040);
}

#[test]
fn contact_lens_chat_events_are_not_turns() {
    // Contact Lens chat output lists events among the messages: participant joined/left (no
    // `Content`) and chat ended (no participant at all).
    let chat = json!({
        "Channel": "CHAT", "JobStatus": "COMPLETED", "Version": "CHAT-2022-11-30",
        "CustomerMetadata": {"ContactId": "c-3"},
        "Participants": [{"ParticipantId": "u-c", "ParticipantRole": "CUSTOMER"},
                         {"ParticipantId": "u-a", "ParticipantRole": "AGENT"}],
        "Transcript": [
            {"AbsoluteTime": "2022-10-27T03:31:50.735Z", "ContentType": "application/vnd.amazonaws.connect.event.participant.joined", "Id": "e1", "ParticipantId": "u-c", "ParticipantRole": "CUSTOMER", "Type": "EVENT"},
            {"AbsoluteTime": "2022-10-27T03:32:03.462Z", "Content": "Hello, this is Jane.", "ContentType": "text/markdown", "Id": "m1", "ParticipantId": "u-a", "ParticipantRole": "AGENT", "Type": "MESSAGE"},
            {"AbsoluteTime": "2022-10-27T03:32:08.102Z", "Content": "I'd like a refund.", "ContentType": "text/markdown", "Id": "m2", "ParticipantId": "u-c", "ParticipantRole": "CUSTOMER", "Type": "MESSAGE"},
            {"AbsoluteTime": "2022-10-27T03:34:42.799Z", "ContentType": "application/vnd.amazonaws.connect.event.participant.left", "Id": "e2", "ParticipantId": "u-c", "ParticipantRole": "CUSTOMER", "Type": "EVENT"},
            {"AbsoluteTime": "2022-10-27T03:34:43.192Z", "ContentType": "application/vnd.amazonaws.connect.event.chat.ended", "Id": "e3", "Type": "EVENT"}
        ]
    });
    let (v, _) = adapted(chat);
    assert_eq!(speakers(&v), ["agent", "customer"]);
    assert_eq!(v["turns"][0]["start_ms"], 0);
    assert_eq!(v["turns"][1]["start_ms"], 4640);
}

#[test]
fn call_level_vendor_sentiment_is_kept() {
    let call = json!({
        "name": "projects/p/locations/l/conversations/c9", "medium": "PHONE_CALL", "agentId": "a",
        "callMetadata": {"customerChannel": 1, "agentChannel": 2},
        "transcript": {"transcriptSegments": [{"text": "hello", "channelTag": 2}, {"text": "hi", "channelTag": 1}]},
        "latestAnalysis": {"analysisResult": {"callAnalysisMetadata": {
            "sentiments": [{"channelTag": 1, "sentimentData": {"magnitude": 0.9, "score": 0.2}}],
            "issueModelResult": {"issues": [{"displayName": "Billing", "score": 0.8}]}}}}
    });
    let (v, _) = adapted(call);
    let vendor = &v["metadata"]["vendor"];
    assert_eq!(vendor["sentiments"][0]["sentimentData"]["score"], 0.2);
    assert_eq!(
        vendor["issueModelResult"]["issues"][0]["displayName"],
        "Billing"
    );
    let chat = json!({
        "Channel": "CHAT", "CustomerMetadata": {"ContactId": "c-4"},
        "Participants": [{"ParticipantId": "c", "ParticipantRole": "CUSTOMER"}, {"ParticipantId": "a", "ParticipantRole": "AGENT"}],
        "ConversationCharacteristics": {"Sentiment": {"OverallSentiment": {"AGENT": 1.6, "CUSTOMER": -0.8}}},
        "Transcript": [{"Content": "hi", "ParticipantId": "a"}, {"Content": "help", "ParticipantId": "c"}]
    });
    let (v, _) = adapted(chat);
    assert_eq!(
        v["metadata"]["vendor"]["OverallSentiment"]["CUSTOMER"],
        -0.8
    );
}
