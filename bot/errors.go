package bot

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// secretParam matches the query parameters that carry a credential: the
// robot's webhook key, the access token, the corp secret and an AI bot's
// one-time response code.
var secretParam = regexp.MustCompile(`(?i)\b(key|access_token|corpsecret|response_code)=[^&\s"'<>]*`)

// redact replaces the value of every credential-bearing query parameter in s
// with "REDACTED", wherever it appears: in a URL or in free text.
func redact(s string) string {
	return secretParam.ReplaceAllString(s, "${1}=REDACTED")
}

// redactErr returns err with credentials removed from its text. net/http
// reports a failed call as a *url.Error whose text includes the URL, key and
// token and all: it is rebuilt with the URL redacted, so errors.Is and
// errors.As still see the cause (a timeout, a cancelled context).
func redactErr(err error) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &url.Error{Op: ue.Op, URL: redact(ue.URL), Err: redactErr(ue.Err)}
	}
	if msg := err.Error(); redact(msg) != msg {
		return &redactedError{msg: redact(msg), err: err}
	}
	return err
}

// redactedError is an error whose text was cleaned of credentials. Unwrap
// still reaches the cause for errors.Is; never log the cause's own text.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// APIError is an answer of WeCom with HTTP 200 and a non-zero errcode. Only
// Code is interpreted; Message is WeCom's errmsg, kept for people to read.
type APIError struct {
	API     string // the endpoint, e.g. "webhook/send"
	Code    int
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wecom %s: errcode %d: %s", e.API, e.Code, e.Message)
}

// StatusError is an answer of WeCom (or of a proxy before it) with an HTTP
// status other than 200.
type StatusError struct {
	API    string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("wecom %s: HTTP status %d", e.API, e.Status)
}

// Verdict is what to do about a failed send.
type Verdict int

// The verdicts of Classify.
const (
	// Retry: a passing failure (network, -1 busy, 5xx); try again with
	// exponential backoff.
	Retry Verdict = iota
	// BackOff: WeCom's own rate limit (45009, 45033, HTTP 429); wait out the
	// minute before trying again.
	BackOff
	// Permanent: trying again cannot succeed (robot removed, bad payload, no
	// valid recipient, bad agentid); fail the message now.
	Permanent
	// Halt: WeCom refused the app's credentials (credentialCodes), a
	// configuration error: hold every message that needs the access token
	// until the configuration is corrected, and tell the administrators.
	Halt
)

// permanentCodes are the errcodes that no retry can cure, with what they
// mean in the words an administrator reads.
var permanentCodes = map[int]string{
	93000: "机器人 webhook 地址无效或机器人已被移除",
	93004: "机器人已被停用",
	93008: "机器人不在该群",
	40007: "媒体文件无效",
	40008: "消息类型无效",
	40009: "图片大小不符合要求",
	40050: "应用群聊不存在",
	40056: "应用 AgentID 无效",
	40058: "消息参数无效或回复地址已失效",
	44004: "消息内容为空",
	45001: "文件过大",
	45002: "消息内容过长",
	45004: "描述过长",
	45007: "语音过长",
	45008: "图文条数过多",
	81013: "接收人均无效",
}

// Classify returns the verdict on err, a failed call to WeCom. Errcodes not
// known to be permanent or rate limits are retried: an unknown failure may
// pass, and the give-up age bounds the retries.
func Classify(err error) Verdict {
	var ae *APIError
	var se *StatusError
	switch {
	case errors.As(err, &ae):
		if ae.Code == 45009 || ae.Code == 45033 {
			return BackOff
		}
		if _, ok := credentialCodes[ae.Code]; ok {
			return Halt
		}
		if _, ok := permanentCodes[ae.Code]; ok {
			return Permanent
		}
	case errors.As(err, &se):
		switch {
		case se.Status == 429:
			return BackOff
		case se.Status >= 500, se.Status == 408, se.Status == 425:
			return Retry
		}
		return Permanent // 3xx (a redirect is never followed) and other 4xx: a wrong api_base or proxy
	case errors.Is(err, errUnsupported):
		return Permanent
	}
	return Retry
}

// errUnsupported marks a message the channel cannot carry, such as an image
// through an app message.
var errUnsupported = errors.New("unsupported message")

// tokenExpired reports whether err says the access token is invalid (40014)
// or expired (42001, 40082): drop it, fetch a new one, try once more.
func tokenExpired(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == 40014 || ae.Code == 42001 || ae.Code == 40082)
}
