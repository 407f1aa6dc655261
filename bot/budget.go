package bot

import (
	"slices"
	"strings"
	"time"

	"yanzhen/models"
	"yanzhen/msg"
)

// memberPerHour is WeCom's cap on the app messages one member receives in an
// hour; past it, as past the per-minute cap, WeCom drops messages silently.
const memberPerHour = 1000

// windowSlack widens each rate window, so that a small clock difference with
// WeCom never lets one send too many.
const windowSlack = 2 * time.Second

// limits are the rates the outbox keeps to.
type limits struct {
	robotPerMinute int // per robot webhook key, whatever the chat
	userPerMinute  int // per member, counting every member of a multi-member message
}

// budget holds the sends of the last hour by budget key (a robot, a member)
// and admits new ones within the limits. It is built from the store's rows
// at each claim pass, so the limits hold across restarts and replicas.
type budget struct {
	now    time.Time
	limits limits
	sends  map[string][]time.Time // sorted
}

// budgetKeys returns what a send to t counts against: its robot, or each of
// its members (WeCom userids are case-insensitive), or the chat the AI bot's
// long connection puts it in. AI-bot response_url replies and app chats
// have no limit of their own.
func budgetKeys(t target) []string {
	switch t.Kind {
	case targetWebhook:
		return []string{"robot:" + t.Key}
	case targetAIBotWSReply, targetAIBotPush:
		return []string{"aibot:" + t.ChatID}
	case targetApp:
		keys := make([]string, 0, len(t.Users))
		for _, u := range t.Users {
			keys = append(keys, "user:"+strings.ToLower(u))
		}
		return keys
	}
	return nil
}

// newBudget counts recent against the limits, resolving each send's target.
func newBudget(now time.Time, l limits, recent []models.RecentSend, r *resolver) *budget {
	b := &budget{now: now, limits: l, sends: make(map[string][]time.Time)}
	for _, s := range recent {
		t, err := r.target(&models.OutboxMessage{Channel: s.Channel, To: s.To, ChatID: s.ChatID})
		if err != nil {
			continue
		}
		for _, k := range budgetKeys(t) {
			b.sends[k] = append(b.sends[k], s.At)
		}
	}
	for _, ts := range b.sends {
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	}
	return b
}

// bulkShare is the part of a chat's per-minute budget (a robot's, the AI
// bot's) that bulk messages (the overdue digests) may use: the rest is kept
// for replies to people, notices and the daily report, which never wait
// behind a digest.
const bulkShare = 0.75

// admit reports whether a send of priority p to keys fits now; when it does
// not, free is the earliest time it will.
func (b *budget) admit(keys []string, p msg.Priority) (ok bool, free time.Time) {
	free = b.now
	for _, k := range keys {
		for _, w := range b.windows(k, p) {
			if at := w.free(b.now, b.sends[k]); at.After(free) {
				free = at
			}
		}
	}
	return !free.After(b.now), free
}

// take counts a send to keys now.
func (b *budget) take(keys []string) {
	for _, k := range keys {
		b.sends[k] = append(b.sends[k], b.now)
	}
}

// window is a limit of n sends in any span of length d.
type window struct {
	n int
	d time.Duration
}

// windows are the limits a send of priority p to key keeps to: a chat's
// per-minute limit (bulk messages only their share of it), a member's per
// minute and per hour.
func (b *budget) windows(key string, p msg.Priority) []window {
	chat := func(n int) []window {
		if p <= msg.Bulk {
			n = max(1, int(float64(n)*bulkShare))
		}
		return []window{{n, time.Minute + windowSlack}}
	}
	if strings.HasPrefix(key, "robot:") {
		return chat(b.limits.robotPerMinute)
	}
	if strings.HasPrefix(key, "aibot:") {
		return chat(aibotPerMinute)
	}
	return []window{{b.limits.userPerMinute, time.Minute + windowSlack}, {memberPerHour, time.Hour + windowSlack}}
}

// free returns the earliest time from now when one more send fits in w,
// given the sorted send times ts.
func (w window) free(now time.Time, ts []time.Time) time.Time {
	i, _ := slices.BinarySearchFunc(ts, now.Add(-w.d), func(t, bound time.Time) int {
		if t.After(bound) {
			return 1
		}
		return -1
	})
	in := ts[i:] // the sends within the window
	if len(in) < w.n {
		return now
	}
	// Once the oldest len(in)-w.n+1 sends leave the window, one more fits.
	return in[len(in)-w.n].Add(w.d)
}
