package bot

import (
	"context"
	"errors"
	"fmt"

	"yanzhen/models"
	"yanzhen/msg"
)

// Work groups: a message to a group (msg.ToGroup(code)) goes to the group's
// chat by the group's robot (wecom.robots, named in the org file's groups),
// or by wecom.robot when the group names none, or by the AI bot's long
// connection when no robot key is set at all. Code "" is the default group:
// the first group of the org file, or, without groups, the chat of
// wecom.robot (or of the AI bot). Every group post names its chat: a row
// to a robot without one is never sent (WeCom would post it to every group
// of the robot), and the administrators are told why (errNoChat).

// place is where a message to a work group goes.
type place struct {
	group  string // the group's code
	robot  string // the robot of wecom.robots; "" for wecom.robot
	chatID string
	aibot  bool // by the AI bot's long connection instead of a robot
}

// robotRow is the row of a post by the place's robot to its chat.
func (p place) robotRow() models.OutboxMessage {
	return models.OutboxMessage{Channel: channelRobot, To: p.robot, ChatID: p.chatID}
}

// defaultPlace is the group of an installation without groups: wecom.robot's
// chat, or the AI bot's.
func (o *Outbox) defaultPlace() place {
	if o.aibotGroup {
		return place{aibot: true, chatID: o.aibotChat}
	}
	return place{chatID: o.robotChat}
}

// placeFor returns where m goes when it is for a work group, reading the
// group on st once per Enqueue (cache); other messages need no place.
func (o *Outbox) placeFor(ctx context.Context, st *models.Store, m *msg.Message, cache map[string]place) (place, error) {
	if m.To.ReplyTo != nil || m.To.Tapped != nil || len(m.To.Members) > 0 {
		return place{}, nil
	}
	code := m.To.Group
	if p, ok := cache[code]; ok {
		return p, nil
	}
	g, ok, err := st.GroupPlaceOf(ctx, code)
	var p place
	switch {
	case err != nil:
		return place{}, fmt.Errorf("bot: enqueue: %w", err)
	case !ok && code == "":
		p = o.defaultPlace()
	case !ok:
		return place{}, fmt.Errorf("bot: enqueue: no work group %q", code)
	default:
		p = place{group: g.Code, robot: g.Robot, chatID: g.ChatID, aibot: g.Robot == "" && o.aibotGroup}
	}
	cache[code] = p
	return p, nil
}

// errNoChat refuses a group post that names no chat.
var errNoChat = fmt.Errorf("%w: a group post names no chat id (set the group's chat_id in the org file, or wecom.robot.chat_id)", errUnsupported)

// isNoChat reports whether err is errNoChat.
func isNoChat(err error) bool { return errors.Is(err, errNoChat) }
