package main

import "go.uber.org/zap"

// logWeCom logs, one line each, which WeCom features the configured
// credentials enable and which keys would enable the others, so that an
// operator sees what the service can do; it warns when nothing can post to
// the work group.
func (m *Main) logWeCom() {
	w := m.Config.WeCom
	for _, f := range w.Features() {
		m.Log.Info("wecom feature", zap.String("feature", f.Name), zap.Bool("on", f.On), zap.String("keys", f.Keys), zap.String("gives", f.Gives))
	}
	if !w.Robot.WebhookKey.IsSet() && len(w.Robots) == 0 && !w.AIBot.WebSocket() {
		m.Log.Warn("no WeCom credentials can post to the work group: set wecom.robot.webhook_key, or run the AI bot on its long connection (wecom.aibot.mode: websocket)")
	}
}
