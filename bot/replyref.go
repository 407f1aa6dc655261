package bot

import (
	"net/url"
	"strings"

	"yanzhen/config"
)

// A callback's reply URL carries a credential: the robot's WebhookUrl has
// the webhook key in its query, the AI bot's response_url a one-use response
// code. The inbound row and the reply's outbox row never store it as it
// came: a WebhookUrl of the configured robot is stored as a reference to
// that robot (robotRef), and any other URL sealed (sealedRef + a sealBox
// text) under a key derived from the callbacks' own secrets. A row written
// before this scheme holds the plain URL, which the resolver still reads.
const (
	robotRef  = "robot:"
	sealedRef = "sealed:"
)

// replyRefs turns reply URLs into what rows store, and back.
type replyRefs struct {
	base     *url.URL
	robotKey string
	box      *sealBox
}

// newReplyRefs returns the reply references of a configuration: sealed
// under a key derived from every configured callback AES key, so that only
// an installation that can read the callbacks can read their reply URLs.
func newReplyRefs(base *url.URL, c config.WeCom) *replyRefs {
	secret := strings.Join([]string{c.AppCallback.AESKey.Reveal(), c.Robot.AESKey.Reveal(), c.AIBot.AESKey.Reveal()}, "\x00")
	return &replyRefs{base: base, robotKey: c.Robot.WebhookKey.Reveal(), box: newSealBox(secret, "reply-url")}
}

// keep returns what a row stores for the reply URL u.
func (r *replyRefs) keep(u string) string {
	if u == "" || isReplyRef(u) {
		return u
	}
	if p, err := url.Parse(u); err == nil && r.robotKey != "" && p.Host == r.base.Host &&
		strings.HasSuffix(p.Path, "/cgi-bin/webhook/send") && p.Query().Get("key") == r.robotKey {
		return robotRef
	}
	return sealedRef + r.box.seal(u)
}

// url returns the reply URL a stored value stands for; ok is false when it
// is a reference to the configured robot (the caller uses the robot) or
// does not open (sealed under other secrets: the configuration changed).
func (r *replyRefs) url(stored string) (u string, robot bool, ok bool) {
	switch {
	case r == nil:
		return stored, false, true
	case stored == robotRef:
		return "", true, true
	case strings.HasPrefix(stored, sealedRef):
		u, err := r.box.open(strings.TrimPrefix(stored, sealedRef))
		return u, false, err == nil
	}
	return stored, false, true
}
