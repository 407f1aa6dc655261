package bot

import (
	"strconv"
	"strings"

	"yanzhen/models"
	"yanzhen/msg"
)

// WeCom's byte limits on the content of one message.
const (
	// robotMarkdownLimit is the most bytes of a robot markdown message.
	robotMarkdownLimit = 4096
	// textLimit is the most bytes of a text message (robot or app) and of an
	// app markdown message.
	textLimit = 2048
	// aibotReplyLimit is the most bytes of an AI bot message's content: the
	// one reply a response_url takes, a stream reply, a push.
	aibotReplyLimit = 20480
)

// truncatedMark ends a reply that had to be cut to fit a one-use reply.
const truncatedMark = "\n……（内容过长，已截断）"

// format is how a message is set: as text, as WeCom's markdown (robot and
// app: <font> colours and <@userid> mentions), or as the AI bot's standard
// markdown (no colours, no mentions).
type format uint8

const (
	asText format = iota
	asMarkdown
	asRichMarkdown
)

// kind is the WeCom message type of the format.
func (f format) kind() string {
	if f == asText {
		return kindText
	}
	return kindMarkdown
}

// escape returns s as literal text in the format.
func (f format) escape(s string) string {
	switch f {
	case asMarkdown:
		return escapeMarkdown(s)
	case asRichMarkdown:
		return escapeRichMarkdown(s)
	}
	return escapeText(s)
}

// renderSpan renders one span as markdown: escaped text, with the markup of
// its style around it, or a mention.
func renderSpan(sp msg.Span, f format) string {
	if f == asRichMarkdown {
		return renderRichSpan(sp)
	}
	if sp.UserID != "" {
		if validUserID(sp.UserID) {
			return "<@" + sp.UserID + ">"
		}
		return escapeMarkdown(sp.Text)
	}
	t := escapeMarkdown(sp.Text)
	if t == "" {
		return ""
	}
	switch sp.Style {
	case msg.StyleStrong:
		return "**" + t + "**"
	case msg.StyleGood:
		return `<font color="info">` + t + `</font>`
	case msg.StyleBad:
		return `<font color="warning">` + t + `</font>`
	case msg.StyleMuted:
		return `<font color="comment">` + t + `</font>`
	}
	return t
}

// renderRichSpan renders one span in the AI bot's markdown, which knows
// bold and italics but no colours and no mentions: a warning or good news
// is bold, a note italic, a mention the name it carries after an "@".
func renderRichSpan(sp msg.Span) string {
	if sp.UserID != "" {
		if sp.Text == "" {
			return ""
		}
		return escapeRichMarkdown("@" + sp.Text)
	}
	t := escapeRichMarkdown(sp.Text)
	switch {
	case t == "":
		return ""
	case sp.Style == msg.StyleMuted:
		return "*" + t + "*"
	case sp.Style != msg.StylePlain:
		return "**" + t + "**"
	}
	return t
}

// renderLine renders a line. In markdown a heading or a quotation is marked
// as such and each span is escaped inside its markup; as text the line is
// its spans' text (a mention as @name), escaped as a whole so that no two
// spans can join into markup.
func renderLine(l msg.Line, f format) string {
	var b strings.Builder
	if f == asText {
		for _, sp := range l.Spans {
			if sp.UserID != "" && sp.Text != "" {
				b.WriteByte('@')
			}
			b.WriteString(sp.Text)
		}
		return escapeText(b.String())
	}
	switch l.Kind {
	case msg.Heading:
		b.WriteString("# ")
	case msg.Quotation:
		b.WriteString("> ")
	}
	start := b.Len()
	for _, sp := range l.Spans {
		b.WriteString(renderSpan(sp, f))
	}
	if f == asRichMarkdown {
		line := b.String()
		return line[:start] + defuseLineStart(line[start:])
	}
	return b.String()
}

// renderSection renders a section's lines, a newline apart. In the AI bot's
// markdown each line but the last ends with two spaces, a hard line break,
// so that no renderer joins the lines into one paragraph.
func renderSection(s msg.Section, f format) string {
	lines := make([]string, len(s.Lines))
	for i, l := range s.Lines {
		lines[i] = renderLine(l, f)
		if f == asRichMarkdown && lines[i] != "" && i < len(s.Lines)-1 {
			lines[i] += "  "
		}
	}
	return strings.Join(lines, "\n")
}

// renderSections renders the sections of m.
func renderSections(m *msg.Message, f format) []string {
	out := make([]string, 0, len(m.Sections))
	for _, s := range m.Sections {
		out = append(out, renderSection(s, f))
	}
	return out
}

// renderWhole renders m as one body, sections a blank line apart.
func renderWhole(m *msg.Message, f format) string {
	return joinNonEmpty("\n\n", renderSections(m, f)...)
}

// continuation returns the first line of part i of n of a message titled
// title: 高新区接诉即办工作日报（续2/3）, in bold in markdown.
func continuation(title string, f format) func(i, n int) string {
	return func(i, n int) string {
		line := f.escape(title + "（续" + strconv.Itoa(i) + "/" + strconv.Itoa(n) + "）")
		if f == asText {
			return line
		}
		return "**" + line + "**"
	}
}

// parts renders m as bodies of at most limit bytes each, as few as fit. A
// titled message is packed section by section, each part after the first
// starting with its continuation line; an untitled one is cut at line
// boundaries.
func parts(m *msg.Message, f format, limit int) []string {
	if m.Title == "" {
		return splitBody(renderWhole(m, f), limit)
	}
	return pack(renderSections(m, f), limit, continuation(m.Title, f))
}

// cutToFit renders m as one body of at most limit bytes: cut at a line
// boundary and marked as cut when too long, for a reply that takes one
// message only.
func cutToFit(m *msg.Message, f format, limit int) string {
	body := renderWhole(m, f)
	if len(body) <= limit {
		return body
	}
	return splitBody(body, limit-len(truncatedMark))[0] + truncatedMark
}

// pack joins sections into as few bodies of at most limit bytes as fit, in
// order, a blank line apart. A section is never split unless it alone is too
// long; then it is cut at line boundaries. When there are several bodies,
// each after the first starts with the line cont(i, n) (i from 2).
func pack(sections []string, limit int, cont func(i, n int) string) []string {
	room := limit - len(cont(99, 99)) - 1
	var bodies []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			bodies = append(bodies, cur.String())
			cur.Reset()
		}
	}
	for _, s := range sections {
		if s == "" {
			continue
		}
		if cur.Len() > 0 && cur.Len()+2+len(s) <= room {
			cur.WriteString("\n\n")
			cur.WriteString(s)
			continue
		}
		flush()
		if len(s) <= room {
			cur.WriteString(s)
			continue
		}
		pieces := splitBody(s, room)
		bodies = append(bodies, pieces[:len(pieces)-1]...)
		cur.WriteString(pieces[len(pieces)-1])
	}
	flush()
	for i := 1; i < len(bodies); i++ {
		bodies[i] = cont(i+1, len(bodies)) + "\n" + bodies[i]
	}
	return bodies
}

// splitBody cuts body into pieces of at most limit bytes, preferring line
// boundaries and never cutting a UTF-8 character. limit <= 0 means no limit.
func splitBody(body string, limit int) []string {
	if limit <= 0 || len(body) <= limit {
		return []string{body}
	}
	var pieces []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			pieces = append(pieces, strings.TrimRight(cur.String(), "\n"))
			cur.Reset()
		}
	}
	for _, line := range strings.SplitAfter(body, "\n") {
		if cur.Len()+len(line) <= limit {
			cur.WriteString(line)
			continue
		}
		flush()
		for len(line) > limit { // one line alone is too long: cut at a character boundary
			piece := models.ClipBytes(line, limit)
			pieces = append(pieces, piece)
			line = line[len(piece):]
		}
		cur.WriteString(line)
	}
	flush()
	return pieces
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
