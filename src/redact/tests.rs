use super::*;

fn masked(text: &str) -> String {
    Redactor::new(&Redaction::default()).mask(text)
}

#[test]
fn finds_each_kind_in_common_formats() {
    let cases = [
        ("我的手机13812345678谢谢", "我的手机[PHONE_1]谢谢"),
        ("call +86 138 1234 5678 now", "call [PHONE_1] now"),
        ("座机：010-12345678", "座机：[PHONE_1]"),
        ("(021)55551234 找王先生", "[PHONE_1] 找王先生"),
        ("打 9123 4567 啦", "打 [PHONE_1] 啦"),
        ("+852 9123 4567", "[PHONE_1]"),
        ("手機 0912-345-678", "手機 [PHONE_1]"),
        ("reach me at (415) 555-0132.", "reach me at [PHONE_1]."),
        ("身份证号11010519491231002X", "身份证号[ID_1]"),
        ("ID A123456(7) please", "ID [ID_1] please"),
        ("身分證 A123456789", "身分證 [ID_1]"),
        ("card 4111 1111 1111 1111 exp", "card [CARD_1] exp"),
        ("卡号6222021234567890128", "卡号[CARD_1]"),
        ("mail Li.Na+qa@example.com.cn ok", "mail [EMAIL_1] ok"),
        ("SSN 078-05-1120", "SSN [SSN_1]"),
        ("router 192.168.1.23 down", "router [IP_1] down"),
        ("全角１３８１２３４５６７８", "全角[PHONE_1]"),
    ];
    for (text, want) in cases {
        assert_eq!(masked(text), want, "{text}");
    }
}

#[test]
fn leaves_look_alikes() {
    for text in [
        "订单号2019123019433778",
        "order 20191230194337781234 shipped",
        "金额¥1,299.00，2024-03-15 14:30",
        "Windows 10.0.18363.592",
        "error 0x80070005 and CE-34224-5",
        "客服热线10086或95588",
        "call 400-820-8820 or 1-800-275-2273",
        // An 18-digit string whose check digit is wrong, and a 16-digit one failing Luhn.
        "编号110105194912310021",
        "ref 4111 1111 1111 1112",
        "@LiNa_88 see https://example.com/a/12345678",
    ] {
        assert_eq!(masked(text), text, "{text}");
    }
}

#[test]
fn same_value_same_mask_within_a_redactor() {
    let cfg = Redaction::default();
    let mut r = Redactor::new(&cfg);
    assert_eq!(
        r.mask("13812345678 和 139 0000 1111"),
        "[PHONE_1] 和 [PHONE_2]"
    );
    assert_eq!(r.mask("还是 138-1234-5678"), "还是 [PHONE_1]");
    assert_eq!(r.counts[&Entity::Phone], 3);
    // A fresh redactor numbers afresh.
    assert_eq!(Redactor::new(&cfg).mask("13900001111"), "[PHONE_1]");
}

#[test]
fn only_the_asked_kinds_are_masked_and_json_strings_too() {
    let cfg = Redaction::from_list("email, phone").unwrap();
    assert_eq!(cfg.names(), ["email", "phone"]);
    let mut r = Redactor::new(&cfg);
    assert_eq!(
        r.mask("a@b.co 13812345678 11010519491231002X"),
        "[EMAIL_1] [PHONE_1] 11010519491231002X"
    );
    let mut v = serde_json::json!({"phone": "13812345678", "n": 3, "list": ["x@y.org"]});
    r.mask_json(&mut v);
    // The phone number was seen above: same mask; the e-mail is new.
    assert_eq!(
        v,
        serde_json::json!({"phone": "[PHONE_1]", "n": 3, "list": ["[EMAIL_2]"]})
    );
    assert!(Redaction::from_list("phone,names").is_err());
    assert!(Redaction::from_list(" , ").is_err());
}
