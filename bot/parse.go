package bot

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"yanzhen/models"
)

// errMalformed marks a callback whose decrypted message cannot be read.
var errMalformed = errors.New("malformed message")

// Normalisation of the three routes into models.Inbound:
//   - MsgID is WeCom's message id; an event without one gets "sha256:" and
//     a hash of the whole message, which WeCom's retries repeat exactly.
//   - MsgType is WeCom's msgtype; an event is "event/" and its event type,
//     e.g. "event/click", with the event key as Text.
//   - Text is the text content (for a mixed message, its text parts joined
//     by newlines) with every "@BotName" mention removed and spaces trimmed.
//   - ChatType is "group" or "single"; app messages are "single".
//   - ReplyURL is the robot's WebhookUrl or the AI bot's response_url.
//   - Media refers to the images and files of an image, file or mixed
//     message: "image:" or "file:" and the URL or media id WeCom gave.
//   - Attachment refers to the file of a file message (media_in.go).

// appXML is the plaintext of a self-built app callback.
type appXML struct {
	FromUserName string `xml:"FromUserName"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
	Recognition  string `xml:"Recognition"` // voice, when speech recognition is on
	MsgID        string `xml:"MsgId"`
	Event        string `xml:"Event"`
	EventKey     string `xml:"EventKey"`
	PicURL       string `xml:"PicUrl"`
	MediaID      string `xml:"MediaId"`
	FileName     string `xml:"FileName"`
	TaskID       string `xml:"TaskId"`
	ResponseCode string `xml:"ResponseCode"`
}

// appParser returns the parser of app callbacks, which reads the taps on
// cards whose keys cards signed.
func appParser(cards *cardSigner) func([]byte, string) (*models.Inbound, error) {
	return func(plain []byte, _ string) (*models.Inbound, error) {
		in, m, err := readApp(plain)
		if err != nil || in.MsgType != "event/template_card_event" {
			return in, err
		}
		return asTap(in, cards, m.TaskID, m.EventKey, m.ResponseCode), nil
	}
}

// asTap makes a template_card_event a tap (models.MsgTypeTap) when its key
// is one cards signed for its card, stored once per card, member and
// button: a second tap of a button is a repeat. Any other stays an event.
func asTap(in *models.Inbound, cards *cardSigner, taskID, key, code string) *models.Inbound {
	tap, ok := cards.open(taskID, key)
	if !ok {
		return in
	}
	sum := sha256.Sum256([]byte(taskID + "\x00" + in.FromUserID + "\x00" + key))
	in.MsgID, in.MsgType, in.Text, in.TaskID = "tap:"+hex.EncodeToString(sum[:16]), models.MsgTypeTap, tap.String(), taskID
	if code != "" { // the app's; the AI bot's tap is answered by the req_id of its frame
		in.ReplyURL = responseCodePrefix + code
	}
	return in
}

// parseApp reads an app callback (XML).
func parseApp(plain []byte) (*models.Inbound, error) {
	in, _, err := readApp(plain)
	return in, err
}

// readApp reads an app callback (XML), and returns its message as read too.
func readApp(plain []byte) (*models.Inbound, *appXML, error) {
	var m appXML
	if err := xml.Unmarshal(plain, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if m.FromUserName == "" || m.MsgType == "" {
		return nil, nil, fmt.Errorf("%w: no FromUserName or MsgType", errMalformed)
	}
	in := &models.Inbound{MsgID: m.MsgID, ChatType: models.ChatSingle, FromUserID: m.FromUserName, MsgType: m.MsgType, Text: m.Content}
	switch m.MsgType {
	case "event":
		in.MsgType, in.Text = "event/"+m.Event, m.EventKey
	case "voice":
		in.Text = m.Recognition
	case "image":
		in.Media = mediaRefs(inboundRef{"image", m.PicURL}, inboundRef{"image", "media:" + m.MediaID})
	case "file":
		in.Attachment = appAttachment(&m)
	}
	in.Text = strings.TrimSpace(in.Text)
	return withMsgID(in, plain), &m, nil
}

// robotXML is the plaintext of a group robot callback in its XML form.
type robotXML struct {
	WebhookURL string `xml:"WebhookUrl"`
	MsgID      string `xml:"MsgId"`
	ChatID     string `xml:"ChatId"`
	ChatType   string `xml:"ChatType"`
	From       struct {
		UserID string `xml:"UserId"`
		Name   string `xml:"Name"`
	} `xml:"From"`
	MsgType string `xml:"MsgType"`
	Text    struct {
		Content string `xml:"Content"`
	} `xml:"Text"`
	Event struct {
		EventType string `xml:"EventType"`
	} `xml:"Event"`
	MixedMessage struct {
		Items []mixedItem `xml:"MsgItem"`
	} `xml:"MixedMessage"`
	Image mediaField `xml:"Image"`
}

// robotJSON is the plaintext of a group robot callback in its JSON form
// (robot_callback_format=json) and of an AI bot callback. The two name the
// same things two ways: the robot's document (群机器人回调) writes the XML
// names in lower case with underscores (mixed_message.msg_item[].msg_type,
// event.event_type), the AI bot's writes mixed.msg_item[].msgtype and
// event.eventtype. Both are read, whichever route the callback came on.
type robotJSON struct {
	WebhookURL   string   `json:"webhook_url"`
	ResponseURL  string   `json:"response_url"`
	MsgID        string   `json:"msgid"`
	ChatID       string   `json:"chatid"`
	ChatType     string   `json:"chattype"`
	From         jsonFrom `json:"from"`
	MsgType      string   `json:"msgtype"`
	MsgTypeRobot string   `json:"msg_type"`
	Text         struct {
		Content string `json:"content"`
	} `json:"text"`
	Voice struct {
		Content string `json:"content"`
	} `json:"voice"`
	Mixed struct {
		Items []mixedItem `json:"msg_item"`
	} `json:"mixed"`
	MixedMessage struct {
		Items []mixedItem `json:"msg_item"`
	} `json:"mixed_message"`
	Event struct {
		EventType      string    `json:"eventtype"`
		EventTypeRobot string    `json:"event_type"`
		CardEvent      cardEvent `json:"template_card_event"`
		cardEvent
	} `json:"event"`
	Image mediaField `json:"image"`
	File  mediaField `json:"file"`
}

type jsonFrom struct {
	UserID string `json:"userid"`
	Name   string `json:"name"`
}

// mixedItem is one part of a mixed message, in the XML form and both JSON
// forms (msgtype for the AI bot, msg_type for the robot).
type mixedItem struct {
	MsgType      string `xml:"MsgType" json:"msgtype"`
	MsgTypeRobot string `xml:"-" json:"msg_type"`
	Text         struct {
		Content string `xml:"Content" json:"content"`
	} `xml:"Text" json:"text"`
	Image mediaField `xml:"Image" json:"image"`
}

// mediaField is where an image or a file is: the robot's ImageUrl
// (image_url in JSON), the AI bot's url; and the key the AI bot's file is
// encrypted with on the long connection (aeskey).
type mediaField struct {
	ImageURL string `xml:"ImageUrl" json:"image_url"`
	URL      string `xml:"Url" json:"url"`
	AESKey   string `xml:"-" json:"aeskey"`
}

// where returns the field's URL.
func (f mediaField) where() string {
	if f.ImageURL != "" {
		return f.ImageURL
	}
	return f.URL
}

// inboundRef is one reference: its kind (image, file) and where it is.
type inboundRef struct{ kind, where string }

// mediaRefs writes the references that say where: "image:https://…".
func mediaRefs(refs ...inboundRef) models.StringList {
	var out models.StringList
	for _, r := range refs {
		if r.where != "" && r.where != "media:" {
			out = append(out, r.kind+":"+r.where)
		}
	}
	return out
}

// mixedMedia refers to the images of a mixed message.
func mixedMedia(items []mixedItem) models.StringList {
	var refs []inboundRef
	for _, it := range items {
		if cmp.Or(it.MsgType, it.MsgTypeRobot) == "image" {
			refs = append(refs, inboundRef{"image", it.Image.where()})
		}
	}
	return mediaRefs(refs...)
}

// mixedText joins the text parts of a mixed message by newlines; images and
// other parts are left out.
func mixedText(items []mixedItem) string {
	var parts []string
	for _, it := range items {
		if cmp.Or(it.MsgType, it.MsgTypeRobot) == "text" {
			parts = append(parts, it.Text.Content)
		}
	}
	return strings.Join(parts, "\n")
}

// parseRobot reads a group robot callback, XML or JSON as it comes.
func parseRobot(plain []byte, botName string) (*models.Inbound, error) {
	if isJSON(plain) {
		return parseJSONMessage(plain, botName)
	}
	var m robotXML
	if err := xml.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if m.MsgType == "" {
		return nil, fmt.Errorf("%w: no MsgType", errMalformed)
	}
	in := &models.Inbound{
		MsgID: m.MsgID, ChatID: m.ChatID, ChatType: models.ChatType(m.ChatType), FromUserID: m.From.UserID, FromName: m.From.Name,
		MsgType: m.MsgType, Text: m.Text.Content, ReplyURL: m.WebhookURL,
	}
	switch m.MsgType {
	case "event":
		in.MsgType = "event/" + m.Event.EventType
	case "mixed":
		in.Text, in.Media = mixedText(m.MixedMessage.Items), mixedMedia(m.MixedMessage.Items)
	case "image":
		in.Media = mediaRefs(inboundRef{"image", m.Image.where()})
	}
	in.Text = stripMention(in.Text, botName)
	return withMsgID(in, plain), nil
}

// cardEvent is a tap on a card the AI bot sent: under the event's
// template_card_event, as WeCom's document has it, or in the event itself,
// as its SDK's types have it.
type cardEvent struct {
	EventKey string `json:"event_key"`
	TaskID   string `json:"task_id"`
}

// aibotParser returns the parser of AI bot callbacks and frames, which
// reads the taps on cards whose keys cards signed.
func aibotParser(cards *cardSigner) func([]byte, string) (*models.Inbound, error) {
	return func(plain []byte, botName string) (*models.Inbound, error) {
		in, m, err := readJSONMessage(plain, botName)
		if err != nil || in.MsgType != "event/template_card_event" {
			return in, err
		}
		ev := m.Event.CardEvent
		if ev.TaskID == "" {
			ev = m.Event.cardEvent
		}
		return asTap(in, cards, ev.TaskID, ev.EventKey, ""), nil
	}
}

// parseJSONMessage reads the JSON form shared by the robot and the AI bot.
func parseJSONMessage(plain []byte, botName string) (*models.Inbound, error) {
	in, _, err := readJSONMessage(plain, botName)
	return in, err
}

// readJSONMessage reads the JSON form shared by the robot and the AI bot,
// and returns its message as read too.
func readJSONMessage(plain []byte, botName string) (*models.Inbound, *robotJSON, error) {
	var m robotJSON
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	m.MsgType = cmp.Or(m.MsgType, m.MsgTypeRobot)
	if m.MsgType == "" {
		return nil, nil, fmt.Errorf("%w: no msgtype", errMalformed)
	}
	in := &models.Inbound{
		MsgID: m.MsgID, ChatID: m.ChatID, ChatType: models.ChatType(m.ChatType), FromUserID: m.From.UserID, FromName: m.From.Name,
		MsgType: m.MsgType, Text: m.Text.Content, ReplyURL: m.WebhookURL,
	}
	if m.ResponseURL != "" {
		in.ReplyURL = m.ResponseURL
	}
	if in.ChatType == "" {
		in.ChatType = models.ChatSingle
	}
	switch m.MsgType {
	case "event":
		in.MsgType = "event/" + cmp.Or(m.Event.EventType, m.Event.EventTypeRobot)
	case "voice":
		in.Text = m.Voice.Content
	case "mixed":
		items := append(m.Mixed.Items, m.MixedMessage.Items...)
		in.Text, in.Media = mixedText(items), mixedMedia(items)
	case "image":
		in.Media = mediaRefs(inboundRef{"image", m.Image.where()})
	case "file":
		in.Media = mediaRefs(inboundRef{"file", m.File.where()})
		in.Attachment = jsonAttachment(&m)
	}
	in.Text = stripMention(in.Text, botName)
	return withMsgID(in, plain), &m, nil
}

// withMsgID gives a message without an id the hash of its plaintext.
func withMsgID(in *models.Inbound, plain []byte) *models.Inbound {
	if in.MsgID == "" {
		sum := sha256.Sum256(plain)
		in.MsgID = "sha256:" + hex.EncodeToString(sum[:16])
	}
	return in
}

// isJSON reports whether b, after leading spaces, starts a JSON object.
func isJSON(b []byte) bool {
	b = bytes.TrimLeftFunc(b, unicode.IsSpace)
	return len(b) > 0 && b[0] == '{'
}

// stripMention removes every "@name" mention of the bot from text, a
// mention being "@name" followed by a space (WeCom puts U+2005 after one) or
// the end, and trims the spaces left over.
func stripMention(text, name string) string {
	if name != "" {
		tag := "@" + name
		var b strings.Builder
		for rest := text; ; {
			i := strings.Index(rest, tag)
			if i < 0 {
				b.WriteString(rest)
				break
			}
			after := rest[i+len(tag):]
			trimmed := strings.TrimLeftFunc(after, unicode.IsSpace)
			if after != "" && len(trimmed) == len(after) { // "@雁阵办" is someone else
				b.WriteString(rest[:i+len(tag)])
				rest = after
				continue
			}
			b.WriteString(strings.TrimRightFunc(rest[:i], unicode.IsSpace))
			if s := b.String(); s != "" && trimmed != "" && !strings.HasSuffix(s, " ") {
				b.WriteByte(' ')
			}
			rest = trimmed
		}
		text = b.String()
	}
	return strings.TrimFunc(text, unicode.IsSpace)
}
