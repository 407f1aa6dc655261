package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"yanzhen/config"
	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/msg"
)

func TestCardKeysAreSignedPerCard(t *testing.T) {
	s := newCardSigner("secret")
	tap := msg.Tap{Ref: msg.Ref{Kind: msg.RefDispatch, ID: 12}, Verb: msg.VerbSign}
	key := s.sign("yz1", tap)
	if got, ok := s.open("yz1", key); !ok || got != tap {
		t.Fatalf("own key read as %+v, %v", got, ok)
	}
	for _, c := range []struct{ name, task, key string }{
		{"another card's task_id", "yz2", key},
		{"another verb", "yz1", strings.Replace(key, "/sign~", "/done~", 1)},
		{"another subject", "yz1", strings.Replace(key, "d/12/", "d/13/", 1)},
		{"no signature", "yz1", tap.String()},
		{"another secret", "yz1", newCardSigner("other").sign("yz1", tap)},
	} {
		if got, ok := s.open(c.task, c.key); ok {
			t.Errorf("%s: key %q accepted as %+v", c.name, c.key, got)
		}
	}
}

func TestCardKeysNeedTheSendingSecret(t *testing.T) {
	// Whoever holds the app callback's token and AES key can craft a
	// callback; they must still not be able to sign a key.
	c := config.Default().WeCom
	c.CorpID, c.AgentID, c.Secret, c.AppCallback.AESKey = "wwcorp", 1000002, "app secret", "callback aes key"
	crafted := c
	crafted.Secret = ""
	tap := msg.Tap{Ref: msg.Ref{Kind: msg.RefDispatch, ID: 12}, Verb: msg.VerbSign}
	key := newCardSigner(cardSecret(crafted)).sign("yz1", tap)
	if got, ok := newCardSigner(cardSecret(c)).open("yz1", key); ok {
		t.Errorf("a key signed with the callback's secrets alone was read as %+v", got)
	}
}

func TestCardRenderedWithinWeComLimits(t *testing.T) {
	long := strings.Repeat("<@all>路灯", 100)
	m := msg.Message{Title: "【点对点调度 D12】" + long, Sections: []msg.Section{msg.S(msg.L(msg.Text("【点对点调度 D12】" + long)))},
		Card: &msg.Card{Ref: msg.Ref{Kind: msg.RefDispatch, ID: 1}, Emphasis: msg.Emphasis{Value: long, Label: "办结时限"},
			Fields: make([]msg.Field, 9), Actions: make([]msg.Action, 8)}}
	for i := range m.Card.Actions {
		m.Card.Actions[i] = msg.Action{Label: "签收" + long, Verb: msg.VerbSign}
	}
	tc := renderCard(&m, newTaskID(), newCardSigner("s"))
	if tc.CardType != "button_interaction" || len(tc.Buttons) != cardMaxButtons || len(tc.Fields) != cardMaxFields {
		t.Fatalf("card %s with %d buttons, %d fields", tc.CardType, len(tc.Buttons), len(tc.Fields))
	}
	if n := utf8.RuneCountInString(tc.MainTitle.Title); n > cardTitleRunes {
		t.Errorf("title of %d characters", n)
	}
	if n := utf8.RuneCountInString(tc.SubTitle); n > cardSubTitleRunes || strings.Contains(tc.SubTitle, "<@") {
		t.Errorf("text of %d characters, unescaped: %q", n, tc.SubTitle)
	}
	if len(tc.TaskID) > cardTaskIDBytes || strings.Trim(tc.TaskID, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("task_id %q", tc.TaskID)
	}
	for _, b := range tc.Buttons {
		if utf8.RuneCountInString(b.Text) > cardButtonRunes || len(b.Key) > cardKeyBytes {
			t.Errorf("button %q key %d bytes", b.Text, len(b.Key))
		}
	}
	m.Card.Actions = nil
	if tc := renderCard(&m, "yz1", newCardSigner("s")); tc.CardType != "text_notice" || tc.Emphasis == nil || tc.CardAction == nil {
		t.Errorf("a card without buttons is %s (emphasis %v, action %v)", tc.CardType, tc.Emphasis, tc.CardAction)
	}
}

func TestCardUpdateNoticeFitsATextMessage(t *testing.T) {
	// The notice a tapper gets when WeCom refuses the response code is an
	// app text message: however many results the card lists, it fits.
	long := strings.Repeat("住建局：已修复路灯，群众满意。\n", 200)
	m := msg.Message{Title: "【点对点调度 D12】", Sections: []msg.Section{msg.S(msg.Lines("【点对点调度 D12】全部单位已报办结\n" + long)...)},
		Card: &msg.Card{Ref: msg.Ref{Kind: msg.RefDispatchIssuer, ID: 12}, Status: "已确认办结 · 王五 12:03"}}
	c := config.Default().WeCom
	c.CorpID, c.AgentID, c.Secret = "wwcorp", 1000002, "secret"
	o := NewOutbox(c)
	in := &models.Inbound{Route: models.RouteApp, FromUserID: "wangwu", ReplyURL: "sealed:x", TaskID: "yz1"}
	rows := o.updateRowsOf(&m, &models.Card{TaskID: "yz1", Recipients: []string{"wangwu"}}, renderCard(&m, "yz1", o.cards), in)
	var u cardUpdate
	if err := json.Unmarshal([]byte(rows[0].Body), &u); err != nil {
		t.Fatal(err)
	}
	if len(u.Notice) > textLimit || !strings.HasPrefix(u.Notice, "【点对点调度 D12】") {
		t.Errorf("notice of %d bytes: %.80q", len(u.Notice), u.Notice)
	}
}

func TestRepeatedTapAnsweredOnceTheFirstIsHandled(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 12, 3, 0, 0, storetest.Shanghai)
	c := config.Default().WeCom
	c.CorpID, c.AgentID, c.Secret = "wwcorp", 1000002, "secret"
	o := NewOutbox(c)
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			st := storetest.Open(t, driver, storetest.Options{Now: func() time.Time { return now }})
			m := msg.Message{Title: "【点对点调度 D1】", Sections: []msg.Section{msg.S(msg.Lines("【点对点调度 D1】王五交办住建局：修路灯")...)},
				Card: &msg.Card{Ref: msg.Ref{Kind: msg.RefDispatch, ID: 1}, Actions: []msg.Action{{Label: "签收", Verb: msg.VerbSign}}}}
			body, err := json.Marshal(renderCard(&m, "yz1", o.cards))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateCard(ctx, &models.Card{TaskID: "yz1", RefKind: "d", RefID: 1, Recipients: models.StringList{"zhangsan"}, State: string(body)}); err != nil {
				t.Fatal(err)
			}
			first := &models.Inbound{Route: models.RouteApp, MsgID: "tap:1", ChatType: models.ChatSingle, FromUserID: "zhangsan",
				MsgType: models.MsgTypeTap, Text: "d/1/sign", TaskID: "yz1", ReplyURL: "sealed:first", ReceivedAt: now}
			if _, err := st.StoreInbound(ctx, []*models.Inbound{first}); err != nil {
				t.Fatal(err)
			}
			repeat := *first
			repeat.ID, repeat.ReplyURL = 0, "sealed:second"
			rows := func() (n int64) {
				if err := st.DB(ctx).Model(&models.OutboxMessage{}).Where("kind = ?", kindCardUpdate).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			// While the first tap is being handled, its update answers both.
			answerRepeat(ctx, st, o, zap.NewNop(), &repeat)
			if n := rows(); n != 0 {
				t.Errorf("a repeat of a tap still being handled was answered by %d updates", n)
			}
			if err := st.MarkInboundHandled(ctx, []uint{first.ID}, now); err != nil {
				t.Fatal(err)
			}
			answerRepeat(ctx, st, o, zap.NewNop(), &repeat)
			if n := rows(); n != 1 {
				t.Errorf("a repeat of a handled tap was answered by %d updates", n)
			}
		})
	}
}
