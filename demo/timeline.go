package demo

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"yanzhen/bot/wecomtest"
)

// EventKind is what a timeline Event shows, and so how the page draws it.
type EventKind string

// Event kinds.
const (
	EventSay    EventKind = "say"    // a person spoke in the group (@机器人 …)
	EventGroup  EventKind = "group"  // the bot posted in the group (robot webhook)
	EventApp    EventKind = "app"    // the app sent members a message (message/send)
	EventNotice EventKind = "notice" // a line from the simulator itself: a job run, a refused send
	EventCard   EventKind = "card"   // a template card changed in place (update_template_card, aibot_respond_update_msg)
)

// Event is one entry of the page's timeline, sent to the browser as JSON.
type Event struct {
	ID       int       `json:"id"`
	Kind     EventKind `json:"kind"`
	Time     time.Time `json:"time"`
	From     string    `json:"from,omitempty"` // say: the speaker's userid
	Name     string    `json:"name,omitempty"` // say: the speaker's name; group and app: the bot's
	To       []string  `json:"to,omitempty"`   // app: the members who received it
	Chat     string    `json:"chat,omitempty"` // say and group: the group chat it was said in
	MsgType  string    `json:"msgtype,omitempty"`
	Content  string    `json:"content"`
	Mentions []string  `json:"mentions,omitempty"`
	// Media is the image or file of an image or file message.
	Media *Media `json:"media,omitempty"`
	// Card is the template_card object of a template card message, as sent.
	Card json.RawMessage `json:"card,omitempty"`
	// TaskID is the task_id of a card message, or of the card a card event changed.
	TaskID string `json:"task_id,omitempty"`
	// Views is, in a card event, what each recipient of the card sees now,
	// by userid ("" for a card in a group chat), as the fake WeCom holds it.
	Views map[string]CardView `json:"views,omitempty"`
}

// timeline is the in-memory log of one demo process, with a broadcast of
// every append. It keeps the latest capacity events.
type timeline struct {
	capacity int

	mu      sync.Mutex
	nextID  int
	events  []Event
	changed chan struct{} // closed and replaced on every append
}

func newTimeline(capacity int) *timeline {
	return &timeline{capacity: capacity, nextID: 1, changed: make(chan struct{})}
}

// add stamps e with the next ID and appends it.
func (t *timeline) add(e Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e.ID = t.nextID
	t.nextID++
	t.events = append(t.events, e)
	if over := len(t.events) - t.capacity; over > 0 {
		t.events = slices.Delete(t.events, 0, over)
	}
	close(t.changed)
	t.changed = make(chan struct{})
}

// since returns the events after ID after, and a channel closed at the next append.
func (t *timeline) since(after int) ([]Event, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i, _ := slices.BinarySearchFunc(t.events, after+1, func(e Event, id int) int { return e.ID - id })
	return slices.Clone(t.events[i:]), t.changed
}

// fromFake turns a call the fake WeCom received into the event the page shows:
// a delivered robot or response-URL message is a group message, a delivered
// app message goes to the members who received it, an AI bot's reply or push
// goes to its group or to the member of its single chat, and a refused
// message is a notice; a card update is a card event, which changes the card
// in place. Token fetches, subscriptions and heartbeats show nothing.
func fromFake(r wecomtest.Request, botName string) (Event, bool) {
	upload := r.Route == wecomtest.RouteUpload || r.Route == wecomtest.RouteMediaUpload
	switch {
	case r.Route == wecomtest.RouteToken, r.Route == wecomtest.RouteSubscribe, r.Route == wecomtest.RoutePing,
		upload && r.Status == http.StatusOK && r.Errcode == 0:
		return Event{}, false
	}
	if (r.Route == wecomtest.RouteUpdateCard || r.Route == wecomtest.RouteUpdate) && r.Status == http.StatusOK && r.Errcode == 0 {
		if r.TaskID == "" { // an update WeCom discarded
			return Event{}, false
		}
		return Event{Kind: EventCard, Time: r.Time, TaskID: r.TaskID}, true
	}
	if !r.Delivered() {
		return Event{Kind: EventNotice, Time: r.Time, Content: refusal(r)}, true
	}
	e := Event{Time: r.Time, Name: botName, MsgType: r.MsgType, Content: r.Content, Mentions: r.Mentions, TaskID: r.TaskID}
	if r.MsgType == "template_card" {
		e.Card = cardOf(r)
	}
	switch r.Route {
	case wecomtest.RouteMessage:
		e.Kind = EventApp
		for _, u := range r.ToUser {
			if !slices.Contains(r.Invalid, strings.ToLower(u)) && !slices.Contains(r.Dropped, strings.ToLower(u)) {
				e.To = append(e.To, u)
			}
		}
		if len(e.To) == 0 {
			return Event{}, false
		}
	case wecomtest.RouteRespond, wecomtest.RouteSendMsg, wecomtest.RouteWelcome:
		e.Kind = EventGroup
		if r.ChatType == "single" {
			e.Kind, e.To = EventApp, r.ToUser
		}
	default:
		e.Kind = EventGroup
	}
	if e.Kind == EventGroup {
		e.Chat = r.ChatID
	}
	return e, true
}

// errcodeText names the WeCom errcodes a demo is likely to meet.
var errcodeText = map[int]string{
	-1:    "系统繁忙",
	40014: "access_token 无效",
	42001: "access_token 已过期",
	45009: "接口调用超过频率限制",
	40058: "参数不合法",
	40007: "媒体文件无效或已过期",
	81013: "收件人均无效",
	93000: "机器人 webhook 地址无效",
}

// refusal explains a message the fake did not deliver.
func refusal(r wecomtest.Request) string {
	what := "机器人消息"
	switch r.Route {
	case wecomtest.RouteMessage:
		what = "应用消息"
	case wecomtest.RouteRespond, wecomtest.RouteSendMsg, wecomtest.RouteWelcome, wecomtest.RouteUpdate:
		what = "智能机器人消息"
	case wecomtest.RouteUpdateCard:
		what = "卡片更新请求"
	case wecomtest.RouteUpload, wecomtest.RouteMediaUpload:
		what = "文件上传请求"
	}
	var why string
	switch {
	case r.Status == 0:
		why = "连接中断"
	case r.Status != 200:
		why = "HTTP " + strconv.Itoa(r.Status)
	default:
		why = "errcode " + strconv.Itoa(r.Errcode)
		if t := errcodeText[r.Errcode]; t != "" {
			why += "（" + t + "）"
		}
	}
	return "模拟企业微信未接收一条" + what + "：" + why + "，发送队列将按规则处理"
}
