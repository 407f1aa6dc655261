package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work/message"
)

// The client is plain net/http, not silenceper/wechat's senders: those build
// every URL from a hard-coded qyapi.weixin.qq.com, reach another host only
// through the process-wide util.SetURIModifier and util.DefaultHTTPClient
// (so two instances with different api_base, as parallel tests and the demo
// have, cannot coexist), take no context, and put the URL with its key or
// access_token in the text of a non-200 error. The library's answer types
// are used to decode, and the token source is its AccessTokenContextHandle.

// maxAnswer bounds the answer body read from WeCom.
const maxAnswer = 1 << 20

// client calls the WeCom API under one api_base.
type client struct {
	base    *url.URL
	corpID  string
	secret  string // the corp secret; sent to gettoken only
	agentID int64
	http    *http.Client
	tokens  *tokenSource
	calls   *prometheus.CounterVec // by api and errcode
	// duplicateCheck is the duplicate_check_interval of app messages: WeCom
	// drops a copy of one sent within it (see deliver.go).
	duplicateCheck time.Duration
}

// newHTTPClient returns hc, or a default client, that never follows a
// redirect: a credential in a URL must not be replayed to another host.
func newHTTPClient(hc *http.Client) *http.Client {
	c := &http.Client{Timeout: httpTimeout}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// endpoint returns the URL of a path under api_base with query q.
func (c *client) endpoint(path string, q url.Values) *url.URL {
	u := *c.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return &u
}

// call sends body (nil for a GET) to u and decodes WeCom's answer into out,
// whose embedded CommonError is common. It returns a *StatusError for an
// HTTP status other than 200, an *APIError for a non-zero errcode, and
// otherwise a transport or decoding error; no error text carries the URL's
// credentials.
func (c *client) call(ctx context.Context, api string, u *url.URL, body any, out any, common *util.CommonError) error {
	err := c.roundTrip(ctx, api, u, body, out, common)
	c.calls.WithLabelValues(api, outcome(err)).Inc()
	return err
}

func (c *client) roundTrip(ctx context.Context, api string, u *url.URL, body any, out any, common *util.CommonError) error {
	method, contentType := http.MethodGet, ""
	var rd io.Reader
	if body != nil {
		var err error
		if rd, contentType, err = encodeBody(body); err != nil {
			return fmt.Errorf("wecom %s: encode: %w", api, err)
		}
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("wecom %s: %w", api, redactErr(err))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("wecom %s: %w", api, redactErr(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxAnswer))
		return &StatusError{API: api, Status: resp.StatusCode}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("wecom %s: read answer: %w", api, redactErr(err))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("wecom %s: answer is not JSON: %w", api, err)
	}
	if common.ErrCode != 0 {
		return &APIError{API: api, Code: int(common.ErrCode), Message: redact(common.ErrMsg)}
	}
	return nil
}

// encodeBody encodes a request body: an upload as multipart/form-data,
// anything else as JSON.
func encodeBody(body any) (io.Reader, string, error) {
	if f, ok := body.(*formFile); ok {
		return f.encode()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, "", err
	}
	return &buf, "application/json; charset=utf-8", nil
}

// outcome labels a call for the metrics: "0" for success, the errcode, the
// HTTP status, or "network".
func outcome(err error) string {
	var ae *APIError
	var se *StatusError
	switch {
	case err == nil:
		return "0"
	case errors.As(err, &ae):
		return strconv.Itoa(ae.Code)
	case errors.As(err, &se):
		return "http_" + strconv.Itoa(se.Status)
	}
	return "network"
}

// fetchToken asks gettoken for the app's access token.
func (c *client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	var res credential.ResAccessToken
	u := c.endpoint("/cgi-bin/gettoken", url.Values{"corpid": {c.corpID}, "corpsecret": {c.secret}})
	if err := c.call(ctx, "gettoken", u, nil, &res, &res.CommonError); err != nil {
		return "", 0, err
	}
	if res.AccessToken == "" || res.ExpiresIn <= 0 {
		return "", 0, errors.New("wecom gettoken: answer has no access_token")
	}
	return res.AccessToken, time.Duration(res.ExpiresIn) * time.Second, nil
}

// withToken calls do with the access token; when WeCom refuses the token
// (40014, 42001) it drops it, fetches a new one and calls do once more.
func (c *client) withToken(ctx context.Context, do func(tok string) error) error {
	tok, err := c.tokens.Token(ctx)
	if err != nil {
		return err
	}
	err = do(tok)
	if !tokenExpired(err) {
		return err
	}
	if err := c.tokens.Invalidate(ctx, tok); err != nil {
		return err
	}
	if tok, err = c.tokens.Token(ctx); err != nil {
		return err
	}
	return do(tok)
}

// webhook posts a message as the group robot with key.
func (c *client) webhook(ctx context.Context, key string, m *robotMessage) error {
	var res util.CommonError
	return c.call(ctx, "webhook/send", c.endpoint("/cgi-bin/webhook/send", url.Values{"key": {key}}), m, &res, &res)
}

// aibotResponsePath is the path of an AI bot's response_url. Such a URL
// takes one message only, of at most aibotReplyLimit bytes.
const aibotResponsePath = "/cgi-bin/aibot/response"

// aibotResponse posts the one reply an AI bot's response_url takes.
func (c *client) aibotResponse(ctx context.Context, code string, m *robotMessage) error {
	var res util.CommonError
	u := c.endpoint(aibotResponsePath, url.Values{"response_code": {code}})
	return c.call(ctx, "aibot/response", u, m, &res, &res)
}

// appMessage sends an app message to members with WeCom's duplicate check
// on, and returns WeCom's answer, whose InvalidUser lists the userids that
// did not receive it. A copy of the same message sent within
// c.duplicateCheck (a retry after a call that timed out but went through)
// is dropped by WeCom.
func (c *client) appMessage(ctx context.Context, m *appMessage) (*message.SendResponse, error) {
	m.AgentID = c.agentID
	m.EnableDuplicateCheck = 1
	m.DuplicateCheckInterval = int64((c.duplicateCheck + time.Second - 1) / time.Second)
	var res message.SendResponse
	err := c.withToken(ctx, func(tok string) error {
		res = message.SendResponse{}
		u := c.endpoint("/cgi-bin/message/send", url.Values{"access_token": {tok}})
		return c.call(ctx, "message/send", u, m, &res, &res.CommonError)
	})
	return &res, err
}

// robotMessage is the body of a robot webhook post and of an AI bot reply.
// ChatID, set on a reply into a chat, picks the chat among the robot's.
type robotMessage struct {
	ChatID   string        `json:"chatid,omitempty"`
	MsgType  string        `json:"msgtype"`
	Text     *robotText    `json:"text,omitempty"`
	Markdown *contentField `json:"markdown,omitempty"`
	Image    *inlineImage  `json:"image,omitempty"`
	File     *mediaRef     `json:"file,omitempty"`
}

type robotText struct {
	Content             string   `json:"content"`
	MentionedList       []string `json:"mentioned_list,omitempty"`
	MentionedMobileList []string `json:"mentioned_mobile_list,omitempty"`
}

type contentField struct {
	Content string `json:"content"`
}

// appMessage is the body of message/send. AgentID is the integer WeCom
// wants (silenceper's structs send a string).
type appMessage struct {
	ToUser   string        `json:"touser,omitempty"`
	AgentID  int64         `json:"agentid,omitempty"`
	MsgType  string        `json:"msgtype"`
	Text     *contentField `json:"text,omitempty"`
	Markdown *contentField `json:"markdown,omitempty"`
	Image    *mediaRef     `json:"image,omitempty"`
	File     *mediaRef     `json:"file,omitempty"`
	// TemplateCard is a card's JSON as cardRows rendered it.
	TemplateCard json.RawMessage `json:"template_card,omitempty"`
	// EnableDuplicateCheck and DuplicateCheckInterval (seconds, at most
	// 14400) turn on WeCom's duplicate check of message/send.
	EnableDuplicateCheck   int   `json:"enable_duplicate_check,omitempty"`
	DuplicateCheckInterval int64 `json:"duplicate_check_interval,omitempty"`
}
