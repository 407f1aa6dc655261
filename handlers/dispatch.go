package handlers

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"yanzhen/handlers/timephrase"
	"yanzhen/models"
)

// draft is a dispatch read from a leader's text, before it is recorded.
type draft struct {
	targets     []target
	tickets     []string
	deadline    *time.Time
	offDay      bool // the deadline falls on a day off
	instruction string
}

// connectors join names in a target list: 住建局和环海街道.
var connectors = []string{"和", "及", "与", "同"}

// ticketLead is what may be written before a ticket number: 工单号：2024….
var ticketLead = []string{"工单号:", "工单号", "工单:", "工单", "单号:", "单号"}

// draftDispatch reads a dispatch from the normalised text after the command
// word. Targets are @-mentions of members and departments anywhere, and
// department names or aliases at the start (住建局、环海街道 …) or full
// department names anywhere; ticket numbers are found by the configured
// pattern; the deadline by the phrase parser (timephrase.Find); what is left
// is the instruction, the deadline phrase cut out of it only when it starts
// or ends it, so that a phrase inside a sentence never mangles it. An @-mention that names nobody, a name that means several, no
// target at all and a deadline in the past or unreadable are refused.
func (h *Handler) draftDispatch(dir *models.Directory, text string, now time.Time) (*draft, error) {
	x := newNameIndex(dir)
	d := &draft{}
	var cuts [][2]int
	var unknown []string
	add := func(t target) {
		if !slices.ContainsFunc(d.targets, t.same) {
			d.targets = append(d.targets, t)
		}
	}
	lead, joint := true, -1 // joint: start of a connector awaiting a following name
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '@':
			end := mentionToken(text, i+1)
			token := text[i+1 : end]
			n, cands := x.mention(token)
			switch {
			case token == "" || text[i:end] == h.grammar.mention:
				cuts = append(cuts, [2]int{i, end})
			case len(cands) == 0:
				unknown = append(unknown, "@"+token)
				cuts = append(cuts, [2]int{i, end})
			case len(cands) > 1:
				return nil, ambiguity(dir, token[:n], cands)
			default:
				add(cands[0])
				cuts, end = cutWithJoint(cuts, joint, i, i+1+n), i+1+n
			}
			joint, i = -1, end
			continue
		case lead && isSep(r):
			i += size
			continue
		case lead && joint < 0 && startsWithAny(text[i:], connectors) != "":
			joint = i
			i += len(startsWithAny(text[i:], connectors))
			continue
		}
		names := x.fullNames
		if lead {
			names = x.deptNames
		}
		if n := longestAt(names, text, i); n != "" {
			dep, err := department(dir, n)
			if err != nil {
				return nil, err
			}
			add(target{dept: dep})
			if lead {
				cuts = cutWithJoint(cuts, joint, i, i+len(n))
			}
			joint, i = -1, i+len(n)
			continue
		}
		lead, joint = false, -1
		i += size
	}
	if len(unknown) > 0 {
		return nil, models.Errorf(models.EINVALID, "未找到调度对象：%s。请核对名称后重新发送", strings.Join(unknown, "、"))
	}
	if len(d.targets) == 0 {
		return nil, models.Errorf(models.EINVALID, "请指明调度对象，如：调度 @住建局 明天下班前反馈")
	}
	for _, m := range h.grammar.tickets.FindAllStringIndex(text, -1) {
		start := m[0]
		for _, l := range ticketLead {
			if strings.HasSuffix(text[:start], l) {
				start -= len(l)
				break
			}
		}
		cuts = append(cuts, [2]int{start, m[1]})
		if n := text[m[0]:m[1]]; !slices.Contains(d.tickets, n) {
			d.tickets = append(d.tickets, n)
		}
	}
	rest := cutOut(text, cuts)
	res, err := h.phrases.Find(rest, now)
	var perr *timephrase.Error
	if errors.As(err, &perr) {
		return nil, models.Errorf(models.EINVALID, "%s，调度未下达。请修改时限后重新发送", perr.Error())
	}
	if err != nil {
		return nil, fmt.Errorf("handlers: read deadline: %w", err)
	}
	d.instruction = strings.Trim(res.Rest, instructionTrim)
	if res.Found {
		t := res.Deadline
		d.deadline, d.offDay = &t, res.OffDay
		// A phrase inside a sentence stays in it: cutting it out would mangle the
		// instruction (…问题于12月10日前拿出方案，12月20日前完成整治).
		if strings.Trim(res.Before, instructionTrim) != "" && strings.Trim(res.After, instructionTrim) != "" {
			d.instruction = strings.Trim(strings.Join(strings.Fields(rest), " "), instructionTrim)
		}
	}
	if d.instruction == "" && len(d.tickets) > 0 {
		d.instruction = "请办理上述工单"
	}
	if d.instruction == "" {
		return nil, models.Errorf(models.EINVALID, "请写明调度要求，如：调度 @住建局 明天中午前办结并回复群众")
	}
	return d, nil
}

// instructionTrim are what a dispatch's instruction is trimmed of at either end.
const instructionTrim = " ,.;:、。"

// cutWithJoint adds the cut [start, end) of a name, widened to the connector
// before it when there is one.
func cutWithJoint(cuts [][2]int, joint, start, end int) [][2]int {
	if joint >= 0 {
		start = joint
	}
	return append(cuts, [2]int{start, end})
}

// cutOut returns text with the spans cut out, each replaced by a blank.
func cutOut(text string, cuts [][2]int) string {
	sort.Slice(cuts, func(i, j int) bool { return cuts[i][0] < cuts[j][0] })
	var b strings.Builder
	last := 0
	for _, c := range cuts {
		if c[0] < last {
			c[0] = last
		}
		if c[0] >= c[1] {
			continue
		}
		b.WriteString(text[last:c[0]])
		b.WriteByte(' ')
		last = c[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// startsWithAny returns the word of words that s starts with, or "".
func startsWithAny(s string, words []string) string {
	for _, w := range words {
		if strings.HasPrefix(s, w) {
			return w
		}
	}
	return ""
}
