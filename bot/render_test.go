package bot

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/msg"
)

func TestSplitBody(t *testing.T) {
	line := strings.Repeat("住", 300) // 900 bytes
	body := strings.Join([]string{line, line, line, line, line}, "\n")
	pieces := splitBody(body, 2048)
	if len(pieces) != 3 {
		t.Fatalf("got %d pieces", len(pieces))
	}
	if strings.Join(pieces, "\n") != body {
		t.Error("pieces do not rejoin to the body")
	}
	for _, p := range pieces {
		if len(p) > 2048 || !utf8.ValidString(p) {
			t.Errorf("bad piece of %d bytes", len(p))
		}
	}
	long := strings.Repeat("𠮷", 1000) // 4000 bytes in one line
	for _, p := range splitBody(long, 1000) {
		if len(p) > 1000 || !utf8.ValidString(p) {
			t.Errorf("cut inside a character: %d bytes", len(p))
		}
	}
	if got := splitBody("short", 2048); len(got) != 1 || got[0] != "short" {
		t.Errorf("short body = %q", got)
	}
}

// markup is what the renderer itself writes into markdown.
var markup = regexp.MustCompile(`<font color="(info|warning|comment)">|</font>|<@[A-Za-z0-9_.@-]+>|\*\*|^# |^> `)

// hostile are inputs that would be markup if they passed through.
var hostile = []string{
	"<@all>", "@all 请注意", "@ALL", `<font color="warning">假通报</font>`, "[点此领取](http://evil.example/x)",
	"**加粗**", "# 标题", "> 引用", "`代码`", "<a href=\"http://evil.example\">链接</a>", "https://evil.example/p",
	"<@zhangsan>", "a\r\nb", "\xff\xfe", "<!-- x -->", "</font>",
	"_斜体_", "~~删除~~", "| 单位 | 件数 |", "\\*转义\\*", "&#64;all", "- 列表", "  1. 有序", "2) 其二", "===", "a\n---",
	"www.evil.example", "见WWW.evil.example", "all",
}

// blockStart matches a line that opens a block in standard markdown: a list
// item, a setext underline or a rule.
var blockStart = regexp.MustCompile(`(?m)^[ \t]*([-+=]|\d+[.)])`)

// checkLiteral fails when rendering span text s as any style, in markdown
// and as text, lets any markup through.
func checkLiteral(t *testing.T, s string) {
	t.Helper()
	for _, sp := range []msg.Span{msg.Text(s), msg.Strong(s), msg.Good(s), msg.Bad(s), msg.Muted(s), msg.At("bad>id", s)} {
		for _, l := range []msg.Line{msg.L(sp), msg.H(sp), {Kind: msg.Quotation, Spans: []msg.Span{sp}}} {
			md := markup.ReplaceAllString(renderLine(l, asMarkdown), "")
			if strings.ContainsAny(md, "<>[]*#`\r") || strings.Contains(md, "://") || strings.Contains(strings.ToLower(md), "@all") {
				t.Fatalf("markdown of %q (style %d, line %d) lets markup through: %q", s, sp.Style, l.Kind, md)
			}
			if !utf8.ValidString(md) {
				t.Fatalf("markdown of %q is not UTF-8", s)
			}
			rich := renderLine(l, asRichMarkdown)
			if blockStart.MatchString(strings.TrimPrefix(strings.TrimPrefix(rich, "# "), "> ")) {
				t.Fatalf("AI bot markdown of %q (style %d, line %d) opens a block: %q", s, sp.Style, l.Kind, rich)
			}
			plain := strings.ReplaceAll(strings.TrimPrefix(strings.TrimPrefix(rich, "# "), "> "), "*", "")
			if strings.ContainsAny(plain, "<>[]#`\r_~|\\&") || strings.Contains(plain, "://") || strings.Contains(strings.ToLower(plain), "@all") ||
				strings.Contains(strings.ToLower(plain), "www.") || !utf8.ValidString(plain) {
				t.Fatalf("AI bot markdown of %q (style %d, line %d) lets markup through: %q", s, sp.Style, l.Kind, rich)
			}
			tx := renderLine(msg.L(sp, msg.Text(s), sp), asText) // spans must not join into markup either
			if regexp.MustCompile(`<[A-Za-z/!?@]`).MatchString(tx) || strings.Contains(tx, "://") || strings.Contains(strings.ToLower(tx), "@all") {
				t.Fatalf("text of %q lets markup through: %q", s, tx)
			}
		}
	}
}

func TestRenderKeepsEveryTextLiteral(t *testing.T) {
	for _, s := range hostile {
		checkLiteral(t, s)
	}
	// What the renderer means stays: styles, mentions of valid userids.
	got := renderLine(msg.L(msg.Text("未报："), msg.Bad("2"), msg.Text(" "), msg.At("lisi", "李四"), msg.Muted("注")), asMarkdown)
	if want := `未报：<font color="warning">2</font> <@lisi><font color="comment">注</font>`; got != want {
		t.Errorf("styled line = %q, want %q", got, want)
	}
	if got := renderLine(msg.L(msg.Text("用法：申请退办 <工单号> <理由>")), asText); got != "用法：申请退办 <工单号> <理由>" {
		t.Errorf("a usage line in text = %q", got)
	}
	// The AI bot's markdown has no colours and no mentions: styles become
	// bold and italics, a mention the name.
	got = renderLine(msg.L(msg.Text("未报："), msg.Bad("2"), msg.Text(" "), msg.At("lisi", "李四"), msg.Muted("注")), asRichMarkdown)
	if want := `未报：**2** @李四*注*`; got != want {
		t.Errorf("styled line in AI bot markdown = %q, want %q", got, want)
	}
	if got := renderSection(msg.S(msg.L(msg.Text("一")), msg.Blank(), msg.L(msg.Text("二")), msg.L(msg.Text("三"))), asRichMarkdown); got != "一  \n\n二  \n三" {
		t.Errorf("AI bot markdown lines = %q, want hard line breaks", got)
	}
}

func FuzzRenderKeepsEveryTextLiteral(f *testing.F) {
	for _, s := range hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkLiteral(t, s) })
}

// testOutbox renders as the default configuration does, with a robot chat.
func testOutbox() *Outbox {
	c := config.Default().WeCom
	c.Robot.ChatID = "wrkGroup"
	return NewOutbox(c)
}

func TestMessagesTravelByAudience(t *testing.T) {
	o := testOutbox()
	robotIn := &models.Inbound{Route: models.RouteRobot, MsgID: "m1", ChatID: "wrkGroup", ChatType: "group", FromUserID: "zhangsan", ReplyURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
	aibotIn := &models.Inbound{Route: models.RouteAIBot, MsgID: "m2", ChatID: "wrkGroup", ChatType: "group", FromUserID: "lisi", ReplyURL: "https://qyapi.weixin.qq.com/cgi-bin/aibot/response?response_code=c"}
	appIn := &models.Inbound{Route: models.RouteApp, MsgID: "m3", ChatType: "single", FromUserID: "wangwu"}
	for _, c := range []struct {
		name                  string
		m                     msg.Message
		channel, to, chat     string
		kind                  string
		mentions              []string
		bodySuffix, bodyShape string
	}{
		{"group text", msg.Message{To: msg.ToGroup(""), Sections: []msg.Section{msg.S(msg.L(msg.Text("公告")))}, Mentions: []string{"lisi"}},
			"robot", "", "wrkGroup", "text", []string{"lisi"}, "公告", ""},
		{"group markdown", msg.Message{To: msg.ToGroup(""), Sections: []msg.Section{msg.S(msg.L(msg.Bad("超期")))}, Mentions: []string{"lisi"}},
			"robot", "", "wrkGroup", "markdown", nil, "\n<@lisi>", ""},
		{"members", msg.Plain(msg.ToMembers("a", "b", "a", ""), "通知"), "app", "a|b", "", "text", nil, "通知", ""},
		{"robot reply", msg.Plain(msg.ReplyTo(robotIn), "已收到"), "reply", robotIn.ReplyURL, "wrkGroup", "text", []string{"zhangsan"}, "已收到", ""},
		{"aibot reply", msg.Plain(msg.ReplyTo(aibotIn), "已收到"), "reply", aibotIn.ReplyURL, "wrkGroup", "markdown", nil, "已收到", ""},
		{"app reply", msg.Plain(msg.ReplyTo(appIn), "已收到"), "app", "wangwu", "", "text", nil, "已收到", ""},
	} {
		rows := o.Render(c.m)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows", c.name, len(rows))
		}
		r := rows[0]
		if r.Channel != c.channel || r.To != c.to || r.ChatID != c.chat || r.Kind != c.kind || !strings.HasSuffix(r.Body, c.bodySuffix) ||
			strings.Join(r.Mentions, ",") != strings.Join(c.mentions, ",") {
			t.Errorf("%s: %s to=%q chat=%q %s mentions=%v body=%q", c.name, r.Channel, r.To, r.ChatID, r.Kind, r.Mentions, r.Body)
		}
	}
}

func TestLongMessagesSplitOrCut(t *testing.T) {
	o := testOutbox()
	line := strings.Repeat("报", 100) // 300 bytes
	var sections []msg.Section
	for i := 0; i < 30; i++ {
		sections = append(sections, msg.S(msg.L(msg.Strong("单位")), msg.L(msg.Text(line))))
	}
	report := msg.Message{To: msg.ToGroup(""), Title: "高新区接诉即办工作日报", Sections: sections, DedupeKey: "daily-report/2026-11-20"}
	rows := o.Render(report)
	if len(rows) < 3 {
		t.Fatalf("%d rows for ~9 KB", len(rows))
	}
	for i, r := range rows {
		if len(r.Body) > robotMarkdownLimit {
			t.Errorf("part %d has %d bytes", i+1, len(r.Body))
		}
		wantKey := "daily-report/2026-11-20"
		if i > 0 {
			wantKey += "/" + string(rune('1'+i))
			if !strings.HasPrefix(r.Body, "**高新区接诉即办工作日报（续") {
				t.Errorf("part %d starts %q", i+1, r.Body[:40])
			}
		}
		if *r.DedupeKey != wantKey {
			t.Errorf("part %d key %q, want %q", i+1, *r.DedupeKey, wantKey)
		}
	}
	// The same to one member goes as app markdown of at most 2048 bytes.
	report.To = msg.ToMembers("wangwu")
	for _, r := range o.Render(report) {
		if len(r.Body) > textLimit || r.Kind != "markdown" {
			t.Errorf("app part of %d bytes, %s", len(r.Body), r.Kind)
		}
	}
	// An AI bot's one-use reply is cut, never split.
	long := msg.Plain(msg.ReplyTo(&models.Inbound{Route: models.RouteAIBot, ReplyURL: "u"}), strings.Repeat(line+"\n", 80))
	rows = o.Render(long)
	if len(rows) != 1 || len(rows[0].Body) > aibotReplyLimit || !strings.HasSuffix(rows[0].Body, "（内容过长，已截断）") {
		t.Fatalf("%d rows, first of %d bytes", len(rows), len(rows[0].Body))
	}
	kept := strings.ReplaceAll(strings.TrimRight(strings.SplitN(rows[0].Body, "\n……", 2)[0], " "), "  \n", "\n") // without the hard line breaks
	if !strings.HasPrefix(strings.Repeat(line+"\n", 80), kept) {
		t.Error("the cut reply is not a prefix of the text at a line boundary")
	}
}

func TestLongRobotSingleChatAnswerIsCutToThree(t *testing.T) {
	o := testOutbox()
	in := &models.Inbound{Route: models.RouteRobot, MsgID: "s1", ChatType: "single", FromUserID: "zhangsan", ReplyURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}
	body := strings.Repeat(strings.Repeat("单", 200)+"\n", 20) // 20 lines of 601 bytes: 7 parts of 3 lines
	m := msg.Plain(msg.ReplyTo(in), body)
	m.DedupeKey = "in:robot:s1:0"
	rows := o.Render(m)
	var replies, apps []models.OutboxMessage
	for _, r := range rows {
		switch r.Channel {
		case channelReply:
			replies = append(replies, r)
		case channelApp:
			apps = append(apps, r)
		}
	}
	if len(replies) != robotSingleReplies || !strings.HasSuffix(replies[2].Body, "内容较长，请在应用中查看") || len(replies[2].Body) > textLimit {
		t.Fatalf("%d replies in the single chat, the last %q", len(replies), replies[len(replies)-1].Body[max(0, len(replies[len(replies)-1].Body)-60):])
	}
	var whole []string
	for _, a := range apps {
		if a.To != "zhangsan" {
			t.Errorf("the whole answer went to %q", a.To)
		}
		whole = append(whole, a.Body)
	}
	if strings.Join(whole, "\n") != strings.TrimRight(body, "\n") || *apps[0].DedupeKey != "in:robot:s1:0/app" {
		t.Errorf("the app copy is not the whole answer (%d parts, key %q)", len(apps), *apps[0].DedupeKey)
	}
	// A group reply is not cut: WeCom's limit is per single chat.
	in.ChatType, in.ChatID = "group", "wrkGroup"
	if n := len(o.Render(msg.Plain(msg.ReplyTo(in), body))); n != 7 {
		t.Errorf("a long group reply became %d messages, want 7", n)
	}
}
