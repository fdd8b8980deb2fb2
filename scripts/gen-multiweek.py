#!/usr/bin/env python3
"""Eight weeks of generated chat conversations for a dozen agents, with planted training effects:
the sample that `convqa effect` and the report's training-effect pages are shown on
(scripts/demo.sh). Not real data and not for training or calibration; deterministic for a seed.

    scripts/gen-multiweek.py --out DIR [--seed 20261206] [--per-day 3]

Writes DIR/conversations.jsonl (chat, zh-Hans and en, `started_at` on working days from
2026-01-05, `metadata.csat` 1-5) and DIR/completions.jsonl (agent_id, module_id, completed_at),
and DIR/planted.json (the truth below, for checks).

What is planted (each agent has its own base level; "etiquette" is the chance that the agent
greets with their name, asks "anything else?" and thanks/says goodbye, each drawn per
conversation; "empathy" the chance of an apology and of acknowledging feelings in the reply to the
customer's problem, which the checklist asks for when the customer is upset (about 40 % are
planted upset; the model reads some plain complaints as negative too)):

| agents   | module completed (2026-02-02, start of week 5) | effect after it            |
|----------|------------------------------------------------|----------------------------|
| A01-A04  | service_etiquette                              | etiquette +0.35            |
| A05-A06  | service_etiquette                              | none (training did not transfer) |
| A07      | empathy_emotion                                | empathy +0.40              |
| A08      | empathy_emotion                                | none                       |
| A09-A12  | none (the control group)                       | none                       |

Everyone drifts: etiquette and empathy rise by 0.10 over the eight weeks (a team-wide push), so
a plain before/after comparison would credit every trained agent with part of it; the control
group removes it. CSAT (1-5) rises with etiquette and empathy shown, and falls when an upset
customer gets neither.
"""

import argparse
import datetime as dt
import json
import random
from pathlib import Path

START = dt.date(2026, 1, 5)  # a Monday
COMPLETED = dt.date(2026, 2, 2)  # Monday of week 5
DRIFT = 0.10

PLANTED = {
    **{f"A{i:02d}": ("service_etiquette", "etiquette", 0.35) for i in range(1, 5)},
    **{f"A{i:02d}": ("service_etiquette", "etiquette", 0.0) for i in range(5, 7)},
    "A07": ("empathy_emotion", "empathy", 0.40),
    "A08": ("empathy_emotion", "empathy", 0.0),
}
NAMES = {"A01": ("小王", "Amy"), "A02": ("小李", "Ben"), "A03": ("小张", "Cara"), "A04": ("小陈", "Dan"),
         "A05": ("小刘", "Eve"), "A06": ("小杨", "Finn"), "A07": ("小赵", "Gina"), "A08": ("小黄", "Hugo"),
         "A09": ("小周", "Ivy"), "A10": ("小吴", "Jack"), "A11": ("小徐", "Kate"), "A12": ("小孙", "Leo")}

TEXT = {
    "zh-Hans": {
        "greet": "您好，我是客服{name}，请问有什么可以帮您？",
        "bare_open": "请讲。",
        "problem": ["我家宽带从昨天开始就断了。", "上个月账单多扣了五十块。", "快递显示签收了但我没收到。",
                    "手机信号很差，电话老是断。", "退款申请提交一周了还没到账。"],
        "upset": ["太离谱了，已经第三次了！", "怎么回事？等了半天没人管！", "你们服务太差了，受不了。"],
        "apology": "非常抱歉，",
        "acknowledge": "我理解您的心情，",
        "ask": "麻烦提供一下您的账户手机号。",
        "detail": ["好的，手机号是138开头那个。", "账户是我本人的名字。"],
        "fix": ["已经为您处理好了，三个工作日内生效。", "已经帮您报修，师傅明天上门。"],
        "ok": ["好的，知道了。", "行，那我等着。"],
        "anything_else": "请问还有其他可以帮您的吗？",
        "farewell": "感谢您的来电，祝您生活愉快，再见！",
        "bare_close": "处理完毕。",
    },
    "en": {
        "greet": "Hello, my name is {name}, how can I help you today?",
        "bare_open": "Go ahead.",
        "problem": ["My internet has been down since yesterday.", "I was charged twice on my last bill.",
                    "My parcel says delivered but I never got it.", "My phone keeps dropping calls.",
                    "I asked for a refund a week ago and nothing arrived."],
        "upset": ["This is ridiculous, it's the third time!", "I'm really frustrated, nobody has helped me.",
                  "Unacceptable, I've waited for ages."],
        "apology": "I apologise for this. ",
        "acknowledge": "I understand how frustrating that is. ",
        "ask": "Could you confirm the account holder's name?",
        "detail": ["It's under my name, Jordan.", "The account is in my name."],
        "fix": ["It's done now, the change takes effect within three working days.",
                "I've booked an engineer for tomorrow morning."],
        "ok": ["Okay, noted.", "Right, I'll wait then."],
        "anything_else": "Is there anything else I can help you with?",
        "farewell": "Thank you for contacting us, have a great day!",
        "bare_close": "That's done.",
    },
}


def working_days():
    d = START
    while d < START + dt.timedelta(weeks=8):
        if d.weekday() < 5:
            yield d
        d += dt.timedelta(days=1)


def conversation(rng, agent, day, k, p_etq, p_emp):
    lang = "zh-Hans" if rng.random() < 0.6 else "en"
    t = TEXT[lang]
    name = NAMES[agent][0 if lang == "zh-Hans" else 1]
    upset = rng.random() < 0.4
    greet, anything, farewell = (rng.random() < p_etq for _ in range(3))
    apology, acknowledge = (rng.random() < p_emp for _ in range(2))
    turns = [("agent", t["greet"].format(name=name) if greet else t["bare_open"]),
             ("customer", rng.choice(t["problem"]))]
    if upset:
        turns.append(("customer", rng.choice(t["upset"])))
    # The empathy behaviour goes with the agent's reply to the problem, upset or not: the checklist
    # also asks for it where the model reads a plain complaint as negative.
    turns.append(("agent", (t["apology"] if apology else "") + (t["acknowledge"] if acknowledge else "") + t["ask"]))
    turns += [("customer", rng.choice(t["detail"])), ("agent", rng.choice(t["fix"])), ("customer", rng.choice(t["ok"]))]
    close = " ".join(x for x, on in ((t["anything_else"], anything), (t["farewell"], farewell)) if on)
    turns.append(("agent", close or t["bare_close"]))
    csat = 3 + 0.6 * (greet + anything + farewell) / 3 + (0.8 * (apology or acknowledge) - 0.6 if upset else 0.4)
    csat = max(1, min(5, round(csat + rng.gauss(0, 0.6))))
    hour, minute = 9 + (k * 7) % 9, (k * 17 + len(agent)) % 60
    return {
        "conversation_id": f"mw-{day:%Y%m%d}-{agent}-{k}",
        "agent_id": agent,
        "channel": "chat",
        "started_at": f"{day:%Y-%m-%d}T{hour:02d}:{minute:02d}:00+08:00",
        "language": lang,
        "metadata": {"csat": csat, "queue": "billing" if "账单" in turns[1][1] or "bill" in turns[1][1] else "general"},
        "turns": [{"speaker": s, "text": x} for s, x in turns],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--per-day", type=int, default=3, help="conversations per agent per working day")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    a.out.mkdir(parents=True, exist_ok=True)
    days = list(working_days())
    base = {agent: (0.30 + 0.25 * rng.random(), 0.30 + 0.25 * rng.random()) for agent in sorted(NAMES)}
    rows = []
    for i, day in enumerate(days):
        drift = DRIFT * i / (len(days) - 1)
        for agent in sorted(NAMES):
            etq, emp = (b + drift for b in base[agent])
            module, what, gain = PLANTED.get(agent, (None, None, 0.0))
            if day >= COMPLETED:
                etq += gain if what == "etiquette" else 0.0
                emp += gain if what == "empathy" else 0.0
            for k in range(a.per_day):
                rows.append(conversation(rng, agent, day, k, min(etq, 0.97), min(emp, 0.97)))
    with open(a.out / "conversations.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(a.out / "completions.jsonl", "w", encoding="utf-8") as f:
        for agent, (module, _, _) in sorted(PLANTED.items()):
            f.write(json.dumps({"agent_id": agent, "module_id": module,
                                "completed_at": f"{COMPLETED:%Y-%m-%d}T08:00:00+08:00"}) + "\n")
    truth = {agent: {"module_id": m, "behaviour": w, "effect": g} for agent, (m, w, g) in PLANTED.items()}
    truth.update({agent: None for agent in NAMES if agent not in PLANTED})
    (a.out / "planted.json").write_text(json.dumps({"seed": a.seed, "drift": DRIFT, "agents": truth,
                                                    "base_levels": base}, indent=1, sort_keys=True) + "\n")
    print(f"{len(rows)} conversations, {len(PLANTED)} completions → {a.out}")


if __name__ == "__main__":
    main()
