package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"yanzhen/bot/wecomtest"
)

// connectWait bounds how long a message waits for the AI bot to subscribe
// (at the demo's start, or after a reconnect).
const connectWait = 15 * time.Second

// pushFrame says text in the group chat chat as the member userid, on the
// AI bot's long connection: the fake WeCom pushes it to the bot as a frame,
// exactly as WeCom does. It waits for the bot to be connected.
func (s *Server) pushFrame(ctx context.Context, userid, name, chat, text string) error {
	s.events.add(Event{Kind: EventSay, Time: time.Now(), From: userid, Name: name, Chat: chat, MsgType: "text",
		Content: "@" + s.cfg.WeCom.BotName + " " + text})
	deadline := time.Now().Add(connectWait)
	for {
		_, err := s.fake.PushText(wecomtest.AIBotMessage{ChatID: chat, UserID: userid, BotName: s.cfg.WeCom.BotName, Content: text})
		if err == nil {
			return nil
		}
		if !errors.Is(err, wecomtest.ErrNoConnection) || time.Now().After(deadline) {
			s.notice("智能机器人长连接未连接，消息未送达")
			return fmt.Errorf("demo: say: %w", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
