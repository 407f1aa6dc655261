package msg

import (
	"fmt"
	"strconv"
	"strings"

	"yanzhen/models"
)

// A Card makes a message to members a card they can tap instead of type:
// its text is the message's sections (whose first line starts with the
// title, which the card shows as its heading), and the card sets apart a
// highlighted line and a few labelled fields, which the text must say too
// (where no card can go, only the text and the status show), and adds
// buttons. Package bot renders it as the channel allows (a card with
// buttons to a member, plain text where no card can go) and signs each
// button, so that a tap comes back as a Tap only for a button the bot made.
// A card without actions is a notice card.
type Card struct {
	// Ref names what the card is about; every tap on it carries it back.
	Ref Ref
	// Emphasis is the highlighted line (a deadline, a figure); empty for none.
	Emphasis Emphasis
	// Fields are short labelled values (下达人: 张区长), in order.
	Fields []Field
	// Status says where the subject stands (已签收 · 王建华 12:03); it
	// replaces the buttons when there are none left.
	Status string
	// Actions are the buttons, in order; package bot shows as many as the
	// channel takes.
	Actions []Action
}

// Emphasis is a highlighted value and what it is: 12月4日 18:00前, 办结时限.
type Emphasis struct {
	Value string
	Label string
}

// Field is a labelled value.
type Field struct {
	Label string
	Value string
}

// Action is a button: its label and the verb a tap on it carries back.
type Action struct {
	Label string
	Verb  Verb
}

// RefKind says what kind of thing a card is about.
type RefKind string

// Ref kinds.
const (
	// RefDispatch is a dispatch for one of its targets (the card a target gets).
	RefDispatch RefKind = "d"
	// RefDispatchIssuer is a dispatch for its issuer (the completion card).
	RefDispatchIssuer RefKind = "di"
	// RefReview is a request of an approval chain (退办 …) for its reviewer.
	RefReview RefKind = "rv"
	// RefDecision is a request of an approval chain for the leaders.
	RefDecision RefKind = "rd"
)

// Ref names the subject of a card: its kind and the ID of its record.
type Ref struct {
	Kind RefKind
	ID   uint
}

// Verb is what a button asks for.
type Verb string

// Verbs.
const (
	VerbSign     Verb = "sign"    // 签收
	VerbDone     Verb = "done"    // 已办结
	VerbConfirm  Verb = "confirm" // 确认办结
	VerbSendBack Verb = "back"    // 退回
	VerbAgree    Verb = "agree"   // 同意 (a reviewer)
	VerbApprove  Verb = "approve" // 批准 (a leader)
	VerbReject   Verb = "reject"  // 驳回
)

// Tap is a button tapped on a card: the card's subject and the button's verb.
type Tap struct {
	Ref  Ref
	Verb Verb
}

// String writes a tap as an inbound message carries it (models.MsgTypeTap):
// "d/12/sign".
func (t Tap) String() string {
	return string(t.Ref.Kind) + "/" + strconv.FormatUint(uint64(t.Ref.ID), 10) + "/" + string(t.Verb)
}

// ParseTap reads a tap written by Tap.String.
func ParseTap(s string) (Tap, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return Tap{}, fmt.Errorf("msg: not a tap: %q", s)
	}
	id, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || id == 0 {
		return Tap{}, fmt.Errorf("msg: tap %q: bad id", s)
	}
	return Tap{Ref: Ref{Kind: RefKind(parts[0]), ID: uint(id)}, Verb: Verb(parts[2])}, nil
}

// UpdateCard returns the message that replaces the card a tap (in) came
// from, for everyone it was sent to, with m's text and card.
func UpdateCard(in *models.Inbound, m Message) Message {
	m.To = Audience{Tapped: in}
	m.Priority = Reply
	return m
}
