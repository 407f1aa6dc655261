package wecomtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Template cards (模板卡片), as WeCom validates them (documents 90236 for app
// messages, 91770 for the group robot): the card types, the fields each
// requires, and the limits of lists, keys and task ids. A field WeCom refuses
// is answered errcode 40058 (invalid Request Parameter) with a hint naming it;
// WeCom documents no finer codes. The group robot takes the notice cards only.

// Card types.
const (
	CardTextNotice          = "text_notice"
	CardNewsNotice          = "news_notice"
	CardButtonInteraction   = "button_interaction"
	CardVoteInteraction     = "vote_interaction"
	CardMultipleInteraction = "multiple_interaction"
)

// WeCom's limits on a template card.
const (
	// CardButtonsMax is the most buttons of a button_interaction card.
	CardButtonsMax = 6
	// CardKeyMax is the most bytes of a button's key (the EventKey of its tap).
	CardKeyMax = 1024
	// TaskIDMax is the most bytes of a task_id, made of [A-Za-z0-9_\-@].
	TaskIDMax = 128
	// CardHorizontalMax and CardJumpMax bound horizontal_content_list and jump_list.
	CardHorizontalMax = 6
	CardJumpMax       = 3
	// CardActionMenuMax bounds action_menu.action_list.
	CardActionMenuMax = 3
	// CardVoteOptionsMax, CardSelectsMax and CardSelectOptionsMax bound a
	// vote's options, the selects of a multiple_interaction card and each
	// select's options.
	CardVoteOptionsMax   = 20
	CardSelectsMax       = 3
	CardSelectOptionsMax = 10
)

var (
	noticeCards = []string{CardTextNotice, CardNewsNotice}
	allCards    = []string{CardTextNotice, CardNewsNotice, CardButtonInteraction, CardVoteInteraction, CardMultipleInteraction}
	taskIDRE    = regexp.MustCompile(`^[A-Za-z0-9_\-@]+$`)
)

// interactive reports whether cards of type t take taps on buttons: they
// need a task_id, and their buttons can be replaced by update_template_card.
func interactive(t string) bool {
	return t == CardButtonInteraction || t == CardVoteInteraction || t == CardMultipleInteraction
}

// templateCard holds the fields of a template card the fake checks.
type templateCard struct {
	CardType  string `json:"card_type"`
	TaskID    string `json:"task_id"`
	MainTitle *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"main_title"`
	EmphasisContent *struct {
		Title string `json:"title"`
		Desc  string `json:"desc"`
	} `json:"emphasis_content"`
	QuoteArea *struct {
		Title     string `json:"title"`
		QuoteText string `json:"quote_text"`
	} `json:"quote_area"`
	SubTitleText          string `json:"sub_title_text"`
	HorizontalContentList []struct {
		Keyname string `json:"keyname"`
		Value   string `json:"value"`
		UserID  string `json:"userid"`
	} `json:"horizontal_content_list"`
	JumpList   []json.RawMessage `json:"jump_list"`
	CardAction *struct {
		Type     int    `json:"type"`
		URL      string `json:"url"`
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"card_action"`
	CardImage *struct {
		URL string `json:"url"`
	} `json:"card_image"`
	ImageTextArea *struct {
		ImageURL string `json:"image_url"`
	} `json:"image_text_area"`
	ActionMenu *struct {
		ActionList []cardKey `json:"action_list"`
	} `json:"action_menu"`
	// ButtonList's style (1 to 4) is not checked: WeCom shows a wrong one as 1.
	ButtonList []cardKey `json:"button_list"`
	Checkbox   *struct {
		QuestionKey string `json:"question_key"`
		OptionList  []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"option_list"`
	} `json:"checkbox"`
	SelectList []struct {
		QuestionKey string `json:"question_key"`
		OptionList  []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"option_list"`
	} `json:"select_list"`
	SubmitButton *cardKey `json:"submit_button"`
}

// cardKey is a button, menu action or submit button: its text and key.
type cardKey struct {
	Text string `json:"text"`
	Key  string `json:"key"`
}

// title is what a reader sees first: the main title, else the subtitle.
func (c *templateCard) title() string {
	if c.MainTitle != nil && c.MainTitle.Title != "" {
		return c.MainTitle.Title
	}
	return c.SubTitleText
}

// text is what a reader sees of the card, a line for each part: the main
// title and its description, the emphasis, the quote, the subtitle, and
// "key：value" for each horizontal line (a member's userid for its value).
func (c *templateCard) text() string {
	var lines []string
	add := func(parts ...string) {
		for _, p := range parts {
			if p != "" {
				lines = append(lines, p)
			}
		}
	}
	if c.MainTitle != nil {
		add(c.MainTitle.Title, c.MainTitle.Desc)
	}
	if c.EmphasisContent != nil {
		add(c.EmphasisContent.Title, c.EmphasisContent.Desc)
	}
	if c.QuoteArea != nil {
		add(c.QuoteArea.Title, c.QuoteArea.QuoteText)
	}
	add(c.SubTitleText)
	for _, h := range c.HorizontalContentList {
		add(h.Keyname + "：" + cmp.Or(h.Value, h.UserID))
	}
	return strings.Join(lines, "\n")
}

// keys returns the keys a tap on the card can send, in order.
func (c *templateCard) keys() []string {
	var out []string
	for _, b := range c.ButtonList {
		out = append(out, b.Key)
	}
	if c.SubmitButton != nil {
		out = append(out, c.SubmitButton.Key)
	}
	if c.ActionMenu != nil {
		for _, a := range c.ActionMenu.ActionList {
			out = append(out, a.Key)
		}
	}
	return out
}

func badCard(format string, args ...any) answer {
	return failure(40058, "template_card."+fmt.Sprintf(format, args...)+". invalid Request Parameter")
}

// checkCard validates c, a card of one of types, as WeCom does; the task_id's
// uniqueness is the caller's to check.
func checkCard(c *templateCard, types []string) answer {
	switch {
	case c == nil || c.CardType == "":
		return badCard("card_type missing")
	case !slices.Contains(types, c.CardType):
		return badCard("card_type %s is not supported here", c.CardType)
	case interactive(c.CardType) || c.ActionMenu != nil:
		if c.TaskID == "" {
			return badCard("task_id missing")
		}
	}
	if c.TaskID != "" && (len(c.TaskID) > TaskIDMax || !taskIDRE.MatchString(c.TaskID)) {
		return badCard("task_id must be at most %d bytes of [A-Za-z0-9_-@]", TaskIDMax)
	}
	if c.CardType == CardTextNotice && c.title() == "" {
		return badCard("main_title.title or sub_title_text missing")
	}
	if c.CardType != CardTextNotice && (c.MainTitle == nil || c.MainTitle.Title == "") {
		return badCard("main_title.title missing")
	}
	if len(c.HorizontalContentList) > CardHorizontalMax {
		return badCard("horizontal_content_list exceed max size %d", CardHorizontalMax)
	}
	if len(c.JumpList) > CardJumpMax {
		return badCard("jump_list exceed max size %d", CardJumpMax)
	}
	if a := checkCardAction(c); a.errcode != 0 {
		return a
	}
	if c.ActionMenu != nil {
		if n := len(c.ActionMenu.ActionList); n == 0 || n > CardActionMenuMax {
			return badCard("action_menu.action_list must hold 1 to %d actions", CardActionMenuMax)
		}
		for _, k := range c.ActionMenu.ActionList {
			if a := checkKey("action_menu.action_list", k); a.errcode != 0 {
				return a
			}
		}
	}
	switch c.CardType {
	case CardNewsNotice:
		if (c.CardImage == nil || c.CardImage.URL == "") && (c.ImageTextArea == nil || c.ImageTextArea.ImageURL == "") {
			return badCard("card_image or image_text_area missing")
		}
	case CardButtonInteraction:
		if n := len(c.ButtonList); n == 0 || n > CardButtonsMax {
			return badCard("button_list must hold 1 to %d buttons", CardButtonsMax)
		}
		for _, b := range c.ButtonList {
			if a := checkKey("button_list", b); a.errcode != 0 {
				return a
			}
		}
	case CardVoteInteraction:
		if c.Checkbox == nil || c.Checkbox.QuestionKey == "" || len(c.Checkbox.OptionList) == 0 || len(c.Checkbox.OptionList) > CardVoteOptionsMax {
			return badCard("checkbox needs question_key and 1 to %d options", CardVoteOptionsMax)
		}
	case CardMultipleInteraction:
		if n := len(c.SelectList); n == 0 || n > CardSelectsMax {
			return badCard("select_list must hold 1 to %d selects", CardSelectsMax)
		}
		for _, sel := range c.SelectList {
			if sel.QuestionKey == "" || len(sel.OptionList) == 0 || len(sel.OptionList) > CardSelectOptionsMax {
				return badCard("select_list needs question_key and 1 to %d options", CardSelectOptionsMax)
			}
		}
	}
	if c.CardType == CardVoteInteraction || c.CardType == CardMultipleInteraction {
		if c.SubmitButton == nil {
			return badCard("submit_button missing")
		}
		if a := checkKey("submit_button", *c.SubmitButton); a.errcode != 0 {
			return a
		}
	}
	if keys := c.keys(); len(slices.Compact(slices.Sorted(slices.Values(keys)))) != len(keys) {
		return badCard("key must be unique within the card")
	}
	return success(nil)
}

// checkCardAction checks the card's click action: the notice cards require
// one that opens a URL (type 1) or a mini program (type 2); the others may
// have none (type 0).
func checkCardAction(c *templateCard) answer {
	act := c.CardAction
	notice := c.CardType == CardTextNotice || c.CardType == CardNewsNotice
	switch {
	case act == nil && notice:
		return badCard("card_action missing")
	case act == nil:
		return success(nil)
	case act.Type == 0 && !notice:
		return success(nil)
	case act.Type == 1 && act.URL == "":
		return badCard("card_action.url missing")
	case act.Type == 2 && act.AppID == "":
		return badCard("card_action.appid missing")
	case act.Type != 1 && act.Type != 2:
		return badCard("card_action.type %d is invalid", act.Type)
	}
	return success(nil)
}

func checkKey(field string, k cardKey) answer {
	switch {
	case k.Text == "":
		return badCard("%s.text missing", field)
	case k.Key == "":
		return badCard("%s.key missing", field)
	case len(k.Key) > CardKeyMax:
		return badCard("%s.key exceed max length %d", field, CardKeyMax)
	case !utf8.ValidString(k.Key):
		return badCard("%s.key is not UTF-8", field)
	}
	return success(nil)
}

// cardJSON returns the template_card object of a request body, as sent.
func cardJSON(body []byte) json.RawMessage {
	var v struct {
		TemplateCard json.RawMessage `json:"template_card"`
	}
	_ = json.Unmarshal(body, &v)
	return v.TemplateCard
}

// withTaskID returns card with its task_id set to id.
func withTaskID(card json.RawMessage, id string) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(card, &m); err != nil {
		return card
	}
	m["task_id"], _ = json.Marshal(id)
	out, err := json.Marshal(m)
	if err != nil {
		return card
	}
	return out
}

// lowerAll returns the userids in lower case, as WeCom compares them.
func lowerAll(ids []string) []string {
	out := make([]string, len(ids))
	for i, u := range ids {
		out[i] = strings.ToLower(u)
	}
	return out
}
