#!/usr/bin/env python3
"""Generate synthetic contact-centre conversations for benchmarks (not for training or golden tests).

A realistic mix: about 45% simplified Chinese, 15% traditional Chinese, 40% English; 6-20 turns;
chat (no timestamps) and voice (timestamps, gaps, some overlaps); customers who are calm, upset,
escalating, or recovering; agents who are polite or curt. Deterministic for a given --seed.

    scripts/gen-conversations.py --n 10000 --out /tmp/bench/conversations.jsonl
    scripts/gen-conversations.py --n 100 --format csv --out -     # CSV to stdout
"""

import argparse
import csv
import json
import random
import sys

LANGS = {
    "zh-Hans": {
        "greet_agent": ["您好，很高兴为您服务，我是客服小王，请问有什么可以帮您？", "您好，这里是客服中心，工号1024为您服务。", "你好，请问有什么可以帮您的？"],
        "problem": ["我家的宽带从昨天开始就断了，一直连不上。", "我上个月的账单多扣了五十块钱，怎么回事？", "我的快递显示已签收，但我根本没收到。", "手机信号特别差，打电话总是断。", "退款申请提交一周了还没到账。"],
        "upset": ["已经打了三次电话了，还是没解决，你们到底怎么回事？", "太离谱了，我要投诉你们！", "再不解决我就去消费者协会投诉。", "你们的服务真的太差了。", "我等了半个小时了！"],
        "agent_help": ["非常抱歉给您带来不便，我马上帮您查一下。", "请您提供一下账户手机号，我帮您核实。", "我这边看到您的线路有故障，已经为您报修。", "请您重启一下路由器，稍等两分钟再试试。", "这笔费用我已经为您申请退回，三个工作日内到账。"],
        "agent_curt": ["这个不归我们管。", "我已经说过了，您自己看说明。", "系统就是这样的，没办法。"],
        "customer_detail": ["路由器的灯一直在闪红灯。", "订单号是20241105001。", "我试过了，还是一样。", "好的，我现在重启。", "手机号是138开头的那个。"],
        "resolved": ["好了，现在可以上网了，谢谢！", "明白了，谢谢你。", "可以了，问题解决了。", "好的，谢谢。"],
        "unresolved": ["还是不行，问题没解决。", "算了，我不想再等了。", "你们这样我只能投诉了。"],
        "close_agent": ["请问还有其他可以帮您的吗？感谢您的来电，祝您生活愉快！", "感谢您的耐心，再见。", "稍后会有短信通知您处理结果，再见。"],
    },
    "zh-Hant": {
        "greet_agent": ["您好，很高興為您服務，請問有什麼可以幫您？", "您好，這裡是客服中心，我是小陳。"],
        "problem": ["我家的網路從昨天開始就斷了。", "這個月的帳單多扣了錢，怎麼回事？", "我的包裹一直沒送到。"],
        "upset": ["已經打了三次電話了，還是沒解決！", "太誇張了，我要投訴！", "你們的服務真的很差。"],
        "agent_help": ["非常抱歉造成您的不便，我馬上幫您查詢。", "請提供您的帳號，我幫您確認。", "我已經為您申請退款，三個工作天內到帳。"],
        "agent_curt": ["這不是我們負責的。", "系統就是這樣。"],
        "customer_detail": ["數據機的燈一直閃紅燈。", "訂單編號是TW20241105。", "好的，我試試看。"],
        "resolved": ["好了，謝謝你！", "可以了，問題解決了，謝謝。"],
        "unresolved": ["還是不行。", "算了，我要投訴。"],
        "close_agent": ["請問還有其他需要幫忙的嗎？感謝您的來電，再見。", "謝謝您的耐心，祝您有美好的一天。"],
    },
    "en": {
        "greet_agent": ["Hello, thank you for calling, my name is Sarah, how can I help you today?", "Hi, this is Mike from customer support. What can I do for you?", "Good morning, you're through to billing, how may I help?"],
        "problem": ["Hi, my internet has been down since yesterday evening.", "I was charged twice on my last bill and I'd like to know why.", "My parcel says delivered but I never got it.", "My phone keeps dropping calls at home.", "I requested a refund a week ago and nothing has arrived."],
        "upset": ["This is the third time I'm calling about this, it's ridiculous.", "I want to speak to a supervisor right now.", "If this isn't fixed today I'm cancelling my contract.", "I'm going to file a complaint with the regulator.", "Your service is absolutely terrible."],
        "agent_help": ["I'm really sorry about that, let me look into it right away.", "Could you confirm the account holder's name and postcode for me?", "I can see a fault on your line, I've booked an engineer for tomorrow morning.", "Could you restart the router and wait two minutes, please?", "I've refunded the duplicate charge, you'll see it in three to five working days."],
        "agent_curt": ["That's not our department.", "As I already told you, read the manual.", "Calm down, it's not my fault."],
        "customer_detail": ["The light on the router keeps blinking red.", "The order number is 4471-2290.", "I already tried that, same thing.", "Okay, restarting it now.", "It's the number ending in 552."],
        "resolved": ["Thanks, that fixed it!", "It's working now, thank you so much.", "Great, that works. Thanks for your help.", "Perfect, all good now."],
        "unresolved": ["It's still not working.", "Forget it, I'll take my business elsewhere.", "That didn't help at all."],
        "close_agent": ["Is there anything else I can help you with today? Have a great day!", "Thanks for your patience, goodbye.", "You'll get a text when the engineer is on the way. Bye for now."],
    },
}

LANG_WEIGHTS = [("zh-Hans", 45), ("zh-Hant", 15), ("en", 40)]
MOODS = [("calm", 45), ("upset_recovers", 25), ("escalating", 15), ("unresolved", 15)]


def pick_weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


# Details appended to turns so that, as in real transcripts, almost no two turns are identical
# (the classifier scores identical texts once, so a repetitive set would overstate throughput).
DETAILS = {
    "zh-Hans": ["订单号是{n}。", "已经{d}天了。", "金额是{amt}元。", "我的手机号尾号是{k}。", "我在{city}。", "昨天{h}点左右开始的。"],
    "zh-Hant": ["訂單編號是{n}。", "已經{d}天了。", "金額是{amt}元。", "我住在{city}。", "昨天{h}點左右開始的。"],
    "en": ["My order number is {n}.", "It's been {d} days now.", "The amount was {amt} dollars.", "My number ends in {k}.", "I'm in {city}.", "It started around {h} o'clock yesterday."],
}
CITIES = {"zh-Hans": ["北京", "上海", "广州", "深圳", "成都", "杭州"], "zh-Hant": ["台北", "高雄", "香港", "台中"], "en": ["London", "Leeds", "Toronto", "Sydney", "Dublin"]}


def detail(rng, lang):
    return rng.choice(DETAILS[lang]).format(
        n=rng.randint(10_000_000, 99_999_999), d=rng.randint(2, 30), amt=rng.randint(20, 3000),
        k=rng.randint(1000, 9999), city=rng.choice(CITIES[lang]), h=rng.randint(6, 23))


TURNS = (6, 20)


def conversation(rng, i):
    lang = pick_weighted(rng, LANG_WEIGHTS)
    p = LANGS[lang]
    mood = pick_weighted(rng, MOODS)
    curt = rng.random() < 0.15
    voice = rng.random() < 0.5
    n = rng.randint(*TURNS)
    sep = " " if lang == "en" else ""

    def say(pool, extra=0.9):
        text = rng.choice(pool)
        if rng.random() < extra:
            text = text + sep + detail(rng, lang)
            if rng.random() < 0.3:
                text = text + sep + detail(rng, lang)
        return text

    texts = [("agent", say(p["greet_agent"], 0.0)), ("customer", say(p["problem"], 0.9))]
    while len(texts) < n - 2:
        if texts[-1][0] == "customer":
            pool = p["agent_curt"] if curt and rng.random() < 0.4 else p["agent_help"]
            texts.append(("agent", say(pool, 0.6)))
        else:
            upset = mood in ("escalating", "unresolved") or (mood == "upset_recovers" and len(texts) < n // 2)
            pool = p["upset"] if upset and rng.random() < 0.6 else p["customer_detail"]
            texts.append(("customer", say(pool)))
    if texts[-1][0] == "customer":
        texts.append(("agent", say(p["agent_help"], 0.6)))
    ending = p["unresolved"] if mood in ("escalating", "unresolved") else p["resolved"]
    texts.append(("customer", say(ending, 0.2)))
    texts.append(("agent", say(p["close_agent"], 0.0)))

    turns = []
    t = 0
    for speaker, text in texts:
        turn = {"speaker": speaker, "text": text}
        if voice:
            # Speech at ~4 characters/s for Chinese, ~15/s for English; gaps 0.2-4 s, sometimes
            # a long hold; occasional overlap (talking over).
            rate = 15.0 if lang == "en" else 4.0
            dur = int(len(text) / rate * 1000) + rng.randint(200, 900)
            gap = rng.choice([rng.randint(200, 4000)] * 9 + [rng.randint(10000, 40000)])
            if rng.random() < 0.05:
                gap = -rng.randint(300, 1500)
            start = max(0, t + gap)
            turn["start_ms"] = start
            turn["end_ms"] = start + dur
            t = start + dur
        turns.append(turn)
    conv = {
        "conversation_id": f"bench-{i:07d}",
        "agent_id": f"a-{rng.randint(1, 60):03d}",
        "channel": "voice" if voice else "chat",
        "started_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(8, 20):02d}:{rng.randint(0, 59):02d}:00+08:00",
        "language": "zh" if lang.startswith("zh") else "en",
        "turns": turns,
        "metadata": {"queue": rng.choice(["broadband", "billing", "delivery", "mobile"])},
    }
    return conv


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10000, help="number of conversations (default 10000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    ap.add_argument("--turns", default="6-20", metavar="MIN-MAX",
                    help="turns drawn per conversation (default 6-20; at least 5 come out: greeting, request, reply, ending, close)")
    ap.add_argument("--out", default="-", help="output file, - for stdout")
    a = ap.parse_args()
    global TURNS
    lo, _, hi = a.turns.partition("-")
    TURNS = (int(lo), int(hi or lo))
    if not 1 <= TURNS[0] <= TURNS[1]:
        ap.error("--turns: MIN-MAX with 1 <= MIN <= MAX")
    rng = random.Random(a.seed)
    out = sys.stdout if a.out == "-" else open(a.out, "w", encoding="utf-8", newline="")
    turns = 0
    try:
        if a.format == "csv":
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["conversation_id", "agent_id", "speaker", "text", "start_ms", "end_ms", "channel"])
        for i in range(a.n):
            c = conversation(rng, i)
            turns += len(c["turns"])
            if a.format == "jsonl":
                out.write(json.dumps(c, ensure_ascii=False) + "\n")
            else:
                for t in c["turns"]:
                    w.writerow([c["conversation_id"], c["agent_id"], t["speaker"], t["text"], t.get("start_ms", ""), t.get("end_ms", ""), c["channel"]])
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"gen-conversations: {a.n} conversations, {turns} turns", file=sys.stderr)


if __name__ == "__main__":
    main()
