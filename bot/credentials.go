package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.uber.org/zap"

	"yanzhen/msg"
)

// credentialCodes are the errcodes with which WeCom refuses the app's
// credentials (corp_id, secret), with what they mean to an administrator.
// They are a configuration error, not a passing failure: retrying cannot
// help until an administrator corrects the configuration and restarts.
var credentialCodes = map[int]string{
	40001: "应用 Secret 无效或已重置",
	40013: "企业 CorpID 无效",
	40125: "应用 Secret 无效",
	41002: "未配置企业 CorpID",
	41004: "未配置应用 Secret",
}

// CredentialsError says that WeCom refused the app's credentials, so that
// the messages that need the app's access token (app messages)
// are held, neither sent nor retried, until the configuration is corrected
// and the service restarted. Flush returns it when only such messages
// remain; Bot.Health reports it.
type CredentialsError struct {
	Code int // WeCom's errcode, one of 40001, 40013, 40125, 41002, 41004
	Held int // messages held, when known
}

func (e *CredentialsError) Error() string {
	held := ""
	if e.Held > 0 {
		held = fmt.Sprintf(" (%d held)", e.Held)
	}
	return fmt.Sprintf("app credentials refused by WeCom (errcode %d): app messages are held%s until wecom.corp_id and wecom.secret are corrected and the service restarted", e.Code, held)
}

// needsToken reports whether sends to kind need the app's access token.
func needsToken(kind string) bool {
	return kind == targetApp
}

// credentialsFault returns the refusal of the app credentials; nil while
// they work.
func (w *worker) credentialsFault() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fault
}

// credentialsError is the error of a flush that leaves held messages.
func (w *worker) credentialsError(held int) error {
	var ce *CredentialsError
	if !errors.As(w.credentialsFault(), &ce) {
		return nil
	}
	return &CredentialsError{Code: ce.Code, Held: held}
}

// credentialsRefused records that WeCom refused the app credentials with
// err: from now on this process holds the messages that need the token.
// The first time, it logs the refusal and tells the administrators, through
// the group robot since app messages cannot go; once per refused
// credentials across restarts and replicas (the notice's dedupe key).
func (w *worker) credentialsRefused(ctx context.Context, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return
	}
	w.mu.Lock()
	first := w.fault == nil
	if first {
		w.fault = &CredentialsError{Code: ae.Code}
	}
	w.mu.Unlock()
	if !first {
		return
	}
	w.log.Error("WeCom refused the app credentials: app messages are held until wecom.corp_id and wecom.secret are corrected and the service restarted",
		zap.Int("errcode", ae.Code), zap.Error(err))
	if w.resolver.robotKey == "" {
		return
	}
	admins, ok := w.admins(ctx, 0)
	if !ok {
		return
	}
	body := fmt.Sprintf("【配置错误】企业微信拒绝了自建应用的凭据（错误码 %d：%s）。应用消息已暂停发送，请管理员核对 wecom.corp_id 与 wecom.secret 后重启服务。",
		ae.Code, credentialCodes[ae.Code])
	notice := msg.Plain(msg.ToGroup(""), body)
	notice.Mentions = admins
	notice.DedupeKey = fmt.Sprintf("%scredentials/%d/%s", noticeKeyPrefix, ae.Code, w.credentials)
	if _, err := w.outbox.Enqueue(ctx, w.store, notice); err != nil {
		w.log.Error("outbox: cannot enqueue the notice of refused credentials", zap.Error(err))
	}
}

// credentialsID names corpID and secret for a dedupe key without revealing
// them: the first 8 hex digits of a hash, as keyID does for webhook keys.
func credentialsID(corpID, secret string) string {
	return keyID(strings.Join([]string{corpID, secret}, "\x00"))
}
