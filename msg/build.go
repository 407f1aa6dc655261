package msg

import "strings"

// Text is a plain span.
func Text(s string) Span { return Span{Text: s} }

// Strong is a span in bold.
func Strong(s string) Span { return Span{Text: s, Style: StyleStrong} }

// Good is a span that reads as good news (a red-list heading, a figure met).
func Good(s string) Span { return Span{Text: s, Style: StyleGood} }

// Bad is a span that reads as a warning (超期, 未报, 黑榜).
func Bad(s string) Span { return Span{Text: s, Style: StyleBad} }

// Muted is a span that reads as a note.
func Muted(s string) Span { return Span{Text: s, Style: StyleMuted} }

// At is an @-mention of the member with userid; name is shown where the
// channel cannot mention ("" shows nothing there).
func At(userid, name string) Span { return Span{UserID: userid, Text: name} }

// L is a body line of spans.
func L(spans ...Span) Line { return Line{Spans: spans} }

// H is a heading line.
func H(spans ...Span) Line { return Line{Kind: Heading, Spans: spans} }

// Blank is a blank line.
func Blank() Line { return Line{} }

// Quote returns what a person wrote as quotation lines, one per non-blank
// line of text, trimmed.
func Quote(text string) []Line {
	var out []Line
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, Line{Kind: Quotation, Spans: []Span{Text(l)}})
		}
	}
	return out
}

// Lines returns plain text as body lines, one per line of text.
func Lines(text string) []Line {
	split := strings.Split(strings.ReplaceAll(text, "\r", ""), "\n")
	out := make([]Line, len(split))
	for i, l := range split {
		out[i] = L(Text(l))
	}
	return out
}

// S is a section of lines.
func S(lines ...Line) Section { return Section{Lines: lines} }

// Plain returns a message of plain text to an audience: one section, a line
// for each line of body.
func Plain(to Audience, body string) Message {
	return Message{To: to, Sections: []Section{S(Lines(body)...)}}
}
