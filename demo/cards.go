package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"yanzhen/bot/wecomtest"
)

// Template cards on the page: a card message carries its template_card as
// sent (Event.Card); a tap on one of its buttons is the fake WeCom's Tap,
// delivered to the bot as WeCom delivers it; and every update of a card is a
// card event with what each recipient sees of it now (Event.Views).

// CardView is a card as one recipient sees it on the page.
type CardView struct {
	Card json.RawMessage `json:"card"`
	// Replace is the text of the greyed buttons of a card updated with
	// button.replace_name.
	Replace string `json:"replace,omitempty"`
}

// cardOf returns the template_card object of a card message: at the top of
// an HTTP body, or in the body of a long-connection frame.
func cardOf(r wecomtest.Request) json.RawMessage {
	var v struct {
		TemplateCard json.RawMessage `json:"template_card"`
		Body         struct {
			TemplateCard json.RawMessage `json:"template_card"`
		} `json:"body"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		return nil
	}
	if v.TemplateCard != nil {
		return v.TemplateCard
	}
	return v.Body.TemplateCard
}

// cardViews returns what each recipient of the card taskID sees now.
func (s *Server) cardViews(taskID string) map[string]CardView {
	c, ok := s.fake.Card(taskID)
	if !ok {
		return nil
	}
	out := make(map[string]CardView, len(c.Views))
	for u, v := range c.Views {
		out[u] = CardView{Card: v.Card, Replace: v.ReplaceName}
	}
	return out
}

// Tap is the member userid tapping the button with key on the card taskID,
// as in WeCom: the fake WeCom makes the event, and it reaches the bot as a
// signed, encrypted template_card_event on its /wecom/app route, or on the
// AI bot's long connection as a frame.
func (s *Server) Tap(ctx context.Context, userid, taskID, key string) error {
	ev, err := s.fake.Tap(userid, taskID, key)
	switch {
	case errors.Is(err, wecomtest.ErrUnknownCard):
		return badRequest("没有这张卡片")
	case errors.Is(err, wecomtest.ErrNotRecipient):
		return badRequest("该成员没有收到这张卡片")
	case errors.Is(err, wecomtest.ErrNoSuchButton):
		return badRequest("该按钮已不可点击")
	case errors.Is(err, wecomtest.ErrNoConnection):
		return badRequest("智能机器人未连接，点击未送达")
	case err != nil:
		return fmt.Errorf("demo: tap: %w", err)
	case ev.ReqID != "" || s.appSigner == nil: // pushed on the long connection
		return nil
	}
	cb, err := s.appSigner.AppCardEvent(ev)
	if err != nil {
		return fmt.Errorf("demo: tap: %w", err)
	}
	return s.deliver(ctx, cb, "/wecom/app", "应用回调")
}

func (s *Server) tap(w http.ResponseWriter, r *http.Request) {
	var in struct {
		UserID string `json:"userid"`
		TaskID string `json:"task_id"`
		Key    string `json:"key"`
	}
	if !readJSON(w, r, &in) {
		return
	}
	if err := s.Tap(r.Context(), in.UserID, in.TaskID, in.Key); err != nil {
		s.fail(w, "tap", err)
		return
	}
	writeJSON(w, map[string]bool{"ok": true})
}
