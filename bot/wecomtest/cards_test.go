package wecomtest

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// buttonCard is a dispatch card as the product sends it, with keys.
func buttonCard(taskID string, keys ...string) map[string]any {
	var buttons []any
	for i, k := range keys {
		buttons = append(buttons, map[string]any{"text": []string{"签收", "已办结", "退回", "同意", "驳回", "批准", "查看"}[i%7], "style": 1, "key": k})
	}
	return map[string]any{
		"card_type": "button_interaction", "task_id": taskID,
		"main_title":       map[string]any{"title": "【点对点调度 D12】", "desc": "王建华"},
		"emphasis_content": map[string]any{"title": "12-05 18:00", "desc": "办理期限"},
		"button_list":      buttons,
	}
}

func cardMessage(to string, card map[string]any) map[string]any {
	return map[string]any{"touser": to, "agentid": DefaultAgentID, "msgtype": "template_card", "template_card": card}
}

func sendURL(t *testing.T, s *Server) string {
	return s.URL() + "/cgi-bin/message/send?access_token=" + getToken(t, s)
}

func TestTemplateCardValidation(t *testing.T) {
	s, _ := start(t)
	send := sendURL(t, s)
	hook := s.WebhookURL(DefaultWebhookKey)
	notice := map[string]any{"card_type": "text_notice", "main_title": map[string]any{"title": "17:30 提醒"},
		"card_action": map[string]any{"type": 1, "url": "https://example.com/r"}}
	with := func(card map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for key, val := range card {
			out[key] = val
		}
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
		return out
	}
	six := make([]string, 6)
	for i := range six {
		six[i] = string(rune('a' + i))
	}
	for _, tc := range []struct {
		name string
		card map[string]any
		want int
	}{
		{"button card", buttonCard("D12_1", "sign", "done"), 0},
		{"six buttons", buttonCard("D12_2", six...), 0},
		{"seven buttons", buttonCard("D12_3", append(six, "g")...), 40058},
		{"no buttons", buttonCard("D12_4"), 40058},
		{"key of 1024 bytes", buttonCard("D12_5", strings.Repeat("k", CardKeyMax)), 0},
		{"key of 1025 bytes", buttonCard("D12_6", strings.Repeat("k", CardKeyMax+1)), 40058},
		{"empty key", buttonCard("D12_7", ""), 40058},
		{"keys repeated", buttonCard("D12_8", "sign", "sign"), 40058},
		{"no task_id", buttonCard("", "sign"), 40058},
		{"task_id of 128 bytes", buttonCard(strings.Repeat("a", TaskIDMax), "sign"), 0},
		{"task_id of 129 bytes", buttonCard(strings.Repeat("b", TaskIDMax+1), "sign"), 40058},
		{"task_id of every allowed character", buttonCard("aZ09_-@", "sign"), 0},
		{"task_id with a space", buttonCard("D12 9", "sign"), 40058},
		{"task_id with Chinese", buttonCard("调度12", "sign"), 40058},
		{"task_id used before", buttonCard("D12_1", "sign"), 40058},
		{"unknown card type", with(notice, "card_type", "poll"), 40058},
		{"no card type", with(notice, "card_type", nil), 40058},
		{"text notice", notice, 0},
		{"text notice without card_action", with(notice, "card_action", nil), 40058},
		{"text notice with a card_action of type 0", with(notice, "card_action", map[string]any{"type": 0}), 40058},
		{"text notice without a title", with(notice, "main_title", nil), 40058},
		{"text notice with a subtitle only", with(with(notice, "main_title", nil), "sub_title_text", "今日未报"), 0},
		{"seven horizontal lines", with(notice, "horizontal_content_list", make([]any, 7)), 40058},
		{"news notice without an image", with(notice, "card_type", "news_notice"), 40058},
		{"news notice", with(with(notice, "card_type", "news_notice"), "card_image", map[string]any{"url": "https://example.com/a.png"}), 0},
		{"vote without options", map[string]any{"card_type": "vote_interaction", "task_id": "v1", "main_title": map[string]any{"title": "投票"},
			"submit_button": map[string]any{"text": "提交", "key": "go"}, "checkbox": map[string]any{"question_key": "q"}}, 40058},
		{"multiple choice", map[string]any{"card_type": "multiple_interaction", "task_id": "m1", "main_title": map[string]any{"title": "选择"},
			"submit_button": map[string]any{"text": "提交", "key": "go"},
			"select_list":   []any{map[string]any{"question_key": "q", "option_list": []any{map[string]any{"id": "1", "text": "是"}}}}}, 0},
		{"action menu without a task_id", with(notice, "action_menu", map[string]any{"desc": "更多", "action_list": []any{map[string]any{"text": "不再提醒", "key": "mute"}}}), 40058},
	} {
		m := call(t, "POST", send, cardMessage("zhangsan", tc.card))
		if got := errcode(m); got != tc.want {
			t.Errorf("%s: errcode = %d, want %d (%v)", tc.name, got, tc.want, m["errmsg"])
		}
		if code, _ := m["response_code"].(string); (code != "") != (tc.want == 0 && tc.card["task_id"] != nil) {
			t.Errorf("%s: response_code %q", tc.name, code)
		}
	}

	// The group robot takes notice cards only.
	wantErrcode(t, call(t, "POST", hook, map[string]any{"msgtype": "template_card", "template_card": notice}), 0)
	wantErrcode(t, call(t, "POST", hook, map[string]any{"msgtype": "template_card", "template_card": buttonCard("R1", "sign")}), 40058)

	// Each accepted card with a task_id is kept, for the members it reached.
	if c, ok := s.Card("D12_1"); !ok || c.CardType != CardButtonInteraction || !slices.Equal(c.Recipients, []string{"zhangsan"}) || c.Route != RouteMessage {
		t.Errorf("card D12_1 = %+v, %v", c, ok)
	}
	if i := slices.IndexFunc(s.Messages(), func(r Request) bool { return r.TaskID == "D12_1" }); i < 0 {
		t.Error("no message carries the card D12_1")
	} else if got := s.Messages()[i].Content; got != "【点对点调度 D12】\n王建华\n12-05 18:00\n办理期限" {
		t.Errorf("the card reads %q", got)
	}
	if _, ok := s.Card("D12_3"); ok {
		t.Error("a refused card was kept")
	}
	if n := len(s.Cards()); n != 6 {
		t.Errorf("%d cards kept, want 6", n)
	}
}

func updateURL(t *testing.T, s *Server) string {
	return s.URL() + "/cgi-bin/message/update_template_card?access_token=" + getToken(t, s)
}

// shown returns the main title of what userid sees of card taskID, and the
// replace_name of its buttons.
func shown(t *testing.T, s *Server, taskID, userid string) (string, string) {
	t.Helper()
	c, ok := s.Card(taskID)
	if !ok {
		t.Fatalf("no card %s", taskID)
	}
	v, ok := c.View(userid)
	if !ok {
		t.Fatalf("%s did not get card %s", userid, taskID)
	}
	var card templateCard
	if err := json.Unmarshal(v.Card, &card); err != nil {
		t.Fatal(err)
	}
	return card.title(), v.ReplaceName
}

func TestUpdateTemplateCard(t *testing.T) {
	s, clock := start(t, WithUsers("zhangsan", "lisi", "wangwu"))
	m := call(t, "POST", sendURL(t, s), cardMessage("zhangsan|lisi", buttonCard("D12_t1", "sign", "done")))
	wantErrcode(t, m, 0)
	sendCode, _ := m["response_code"].(string)
	update := updateURL(t, s)

	// A tap brings a fresh code; it updates the card once, for those named.
	ev, err := s.Tap("zhangsan", "D12_t1", "sign")
	if err != nil {
		t.Fatal(err)
	}
	if ev.ResponseCode == "" || ev.ResponseCode == sendCode || ev.EventKey != "sign" || ev.CardType != CardButtonInteraction || ev.AgentID != DefaultAgentID {
		t.Fatalf("tap = %+v", ev)
	}
	signed := buttonCard("", "done")
	signed["main_title"] = map[string]any{"title": "【点对点调度 D12】已签收"}
	m = call(t, "POST", update, map[string]any{"userids": []string{"zhangsan", "wangwu"}, "agentid": DefaultAgentID,
		"response_code": ev.ResponseCode, "template_card": signed})
	wantErrcode(t, m, 0)
	if inv, _ := m["invaliduser"].([]any); len(inv) != 1 || inv[0] != "wangwu" {
		t.Errorf("invaliduser = %v", m["invaliduser"])
	}
	if title, _ := shown(t, s, "D12_t1", "zhangsan"); title != "【点对点调度 D12】已签收" {
		t.Errorf("zhangsan sees %q", title)
	}
	if title, _ := shown(t, s, "D12_t1", "lisi"); title != "【点对点调度 D12】" {
		t.Errorf("lisi, not named, sees %q", title)
	}
	c, _ := s.Card("D12_t1")
	if v, _ := c.View("zhangsan"); !strings.Contains(string(v.Card), `"task_id":"D12_t1"`) || !v.Updated.Equal(t0) {
		t.Errorf("the updated view %s at %v lacks the card's task_id or time", v.Card, v.Updated)
	}
	// The same code again: refused, nothing changes.
	m = call(t, "POST", update, map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "button": map[string]any{"replace_name": "已处理"}})
	wantErrcode(t, m, 40058)
	if _, greyed := shown(t, s, "D12_t1", "lisi"); greyed != "" {
		t.Error("a used code updated the card")
	}

	// The code of the send, 72 hours on: still good once, for everyone.
	clock.Advance(ResponseCodeTTL - time.Second)
	update = updateURL(t, s)
	wantErrcode(t, call(t, "POST", update, map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": sendCode, "button": map[string]any{"replace_name": "已撤销"}}), 0)
	for _, u := range []string{"zhangsan", "lisi"} {
		if _, greyed := shown(t, s, "D12_t1", u); greyed != "已撤销" {
			t.Errorf("%s sees buttons %q", u, greyed)
		}
		if _, err := s.Tap(u, "D12_t1", "done"); !errors.Is(err, ErrNoSuchButton) {
			t.Errorf("a tap on a greyed button: %v", err)
		}
	}

	// A tap's code expires after 72 hours.
	m = call(t, "POST", sendURL(t, s), cardMessage("lisi", buttonCard("D12_t2", "sign")))
	wantErrcode(t, m, 0)
	ev, err = s.Tap("lisi", "D12_t2", "sign")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(ResponseCodeTTL)
	update = updateURL(t, s)
	wantErrcode(t, call(t, "POST", update, map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "button": map[string]any{"replace_name": "已签收"}}), 40058)

	// Other refusals: a made-up code, a foreign agent, a card of another
	// task_id, no change at all, and greying a notice card.
	ev, err = s.Tap("lisi", "D12_t2", "sign")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		body map[string]any
		want int
	}{
		{"made-up code", map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": "forged", "button": map[string]any{"replace_name": "x"}}, 40058},
		{"foreign agent", map[string]any{"atall": 1, "agentid": 1000009, "response_code": ev.ResponseCode, "button": map[string]any{"replace_name": "x"}}, 40056},
		{"another card's task_id", map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "template_card": buttonCard("D12_t1", "sign")}, 40058},
		{"no change", map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": ev.ResponseCode}, 40058},
		{"nobody it reached", map[string]any{"userids": []string{"wangwu"}, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "button": map[string]any{"replace_name": "x"}}, 81013},
		{"an invalid card", map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "template_card": buttonCard("D12_t2")}, 40058},
	} {
		if got := errcode(call(t, "POST", update, tc.body)); got != tc.want {
			t.Errorf("%s: errcode %d, want %d", tc.name, got, tc.want)
		}
	}
	// None of the refusals used the code up; and updates deliver no message.
	wantErrcode(t, call(t, "POST", update, map[string]any{"userids": []string{"LiSi"}, "agentid": DefaultAgentID, "response_code": ev.ResponseCode, "button": map[string]any{"replace_name": "已签收"}}), 0)
	if _, greyed := shown(t, s, "D12_t2", "lisi"); greyed != "已签收" {
		t.Errorf("lisi sees buttons %q", greyed)
	}
	for _, r := range s.Messages() {
		if r.Route == RouteUpdateCard {
			t.Errorf("an update counted as a message: %+v", r)
		}
	}

	// Greying is for interaction cards only.
	m = call(t, "POST", sendURL(t, s), cardMessage("lisi", map[string]any{"card_type": "text_notice", "task_id": "N1", "main_title": map[string]any{"title": "提醒"},
		"card_action": map[string]any{"type": 1, "url": "https://example.com"},
		"action_menu": map[string]any{"desc": "更多", "action_list": []any{map[string]any{"text": "不再提醒", "key": "mute"}}}}))
	wantErrcode(t, m, 0)
	code, _ := m["response_code"].(string)
	wantErrcode(t, call(t, "POST", update, map[string]any{"atall": 1, "agentid": DefaultAgentID, "response_code": code, "button": map[string]any{"replace_name": "x"}}), 40058)
}

func TestTapRefusals(t *testing.T) {
	s, _ := start(t)
	wantErrcode(t, call(t, "POST", sendURL(t, s), cardMessage("zhangsan", buttonCard("D12_r", "sign"))), 0)
	if _, err := s.Tap("zhangsan", "not-sent", "sign"); !errors.Is(err, ErrUnknownCard) {
		t.Errorf("a foreign task_id: %v", err)
	}
	if _, err := s.Tap("lisi", "D12_r", "sign"); !errors.Is(err, ErrNotRecipient) {
		t.Errorf("a member the card did not reach: %v", err)
	}
	if _, err := s.Tap("zhangsan", "D12_r", "forged"); !errors.Is(err, ErrNoSuchButton) {
		t.Errorf("a key the card lacks: %v", err)
	}
	if _, err := s.Tap("ZhangSan", "D12_r", "sign"); err != nil {
		t.Errorf("userids are compared without case: %v", err)
	}
}

func TestAppCardEvent(t *testing.T) {
	signer, c := signer(t, testCorpID)
	cb, err := signer.AppCardEvent(CardEvent{UserID: "zhangsan", TaskID: "D12_1", EventKey: "sign", CardType: CardButtonInteraction, ResponseCode: "rc1", AgentID: 1000002})
	if err != nil {
		t.Fatal(err)
	}
	req, err := cb.Request("/wecom/app")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		ToUserName, FromUserName, MsgType, Event, EventKey, TaskId, CardType, ResponseCode string
		CreateTime                                                                         int64
		AgentID                                                                            int
	}
	if err := xml.Unmarshal(open(t, c, req, false), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.ToUserName != testCorpID || ev.FromUserName != "zhangsan" || ev.MsgType != "event" || ev.Event != "template_card_event" ||
		ev.EventKey != "sign" || ev.TaskId != "D12_1" || ev.CardType != CardButtonInteraction || ev.ResponseCode != "rc1" ||
		ev.AgentID != 1000002 || ev.CreateTime != t0.Unix() {
		t.Errorf("event = %+v", ev)
	}
}

func TestAIBotCardTapAndUpdate(t *testing.T) {
	s, clock := start(t)
	w := dialWS(t, s)
	if code := subscribe(w, DefaultBotID, DefaultBotSecret); code != 0 {
		t.Fatalf("subscribe: %d", code)
	}
	card := buttonCard("D12_ws", "sign", "done")
	push := func(card map[string]any) int {
		return w.call("aibot_send_msg", map[string]any{"chatid": "zhangsan", "msgtype": "template_card", "template_card": card})
	}
	if code := push(card); code != 0 {
		t.Fatalf("push a card: %d", code)
	}
	if code := push(card); code != 40058 {
		t.Errorf("a second card with the task_id: errcode %d", code)
	}
	if code := push(buttonCard("D12_ws7", "a", "b", "c", "d", "e", "f", "g")); code != 40058 {
		t.Errorf("seven buttons: errcode %d", code)
	}
	c, ok := s.Card("D12_ws")
	if !ok || !slices.Equal(c.Recipients, []string{"zhangsan"}) || c.Route != RouteSendMsg {
		t.Fatalf("card = %+v, %v", c, ok)
	}

	ev, err := s.Tap("zhangsan", "D12_ws", "sign")
	if err != nil {
		t.Fatal(err)
	}
	f := w.read()
	body, _ := f["body"].(map[string]any)
	event, _ := body["event"].(map[string]any)
	tap, _ := event["template_card_event"].(map[string]any)
	if f["cmd"] != "aibot_event_callback" || f["headers"].(map[string]any)["req_id"] != ev.ReqID || event["eventtype"] != "template_card_event" ||
		tap["event_key"] != "sign" || tap["task_id"] != "D12_ws" || tap["card_type"] != CardButtonInteraction || body["from"].(map[string]any)["userid"] != "zhangsan" {
		t.Fatalf("pushed %v", f)
	}
	signed := buttonCard("D12_ws", "done")
	signed["main_title"] = map[string]any{"title": "已签收"}
	update := func(reqID string, card map[string]any) int {
		w.send("aibot_respond_update_msg", reqID, map[string]any{"response_type": "update_template_card", "template_card": card})
		return errcode(w.read())
	}
	// Another card's task_id: acknowledged and discarded, as WeCom does.
	if code := update(ev.ReqID, buttonCard("D12_other", "x")); code != 0 {
		t.Errorf("an update of another task_id: errcode %d", code)
	}
	if title, _ := shown(t, s, "D12_ws", "zhangsan"); title != "【点对点调度 D12】" {
		t.Errorf("a discarded update changed the card to %q", title)
	}
	if code := update(ev.ReqID, signed); code != 0 {
		t.Fatalf("update: errcode %d", code)
	}
	if title, _ := shown(t, s, "D12_ws", "zhangsan"); title != "已签收" {
		t.Errorf("zhangsan sees %q", title)
	}
	// After the window, the event's req_id no longer updates.
	ev, err = s.Tap("zhangsan", "D12_ws", "done")
	if err != nil {
		t.Fatal(err)
	}
	w.read()
	clock.Advance(EventReplyWindow + time.Second)
	if code := update(ev.ReqID, signed); code != ErrcodeInvalidReqID {
		t.Errorf("a late update: errcode %d", code)
	}
}
