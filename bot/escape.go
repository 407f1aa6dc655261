package bot

import (
	"strings"
	"unicode/utf8"
)

// Every span of a msg.Message is literal text, whoever wrote it: a
// citizen's ticket title, a head's report, a member's unknown command. Before
// it goes into a WeCom message it is escaped for the channel, so that no
// input can make the bot post a mention, a colour, a heading, bold text or a
// link it did not mean to. WeCom's markdown has no escape character, so the
// characters that could open markup become their full-width look-alikes,
// which read the same to a person. Only the renderer adds markup, around
// escaped text.

// markdownEscapes are the characters that open markup in WeCom's markdown:
// tags (<font>, <@userid>), links ([text](url)), bold and headings, code.
var markdownEscapes = map[rune]string{
	'<': "＜", '>': "＞", '[': "［", ']': "］", '*': "＊", '#': "＃", '`': "｀",
}

// escapeMarkdown returns s as literal text for WeCom markdown.
func escapeMarkdown(s string) string { return escape(s, markdownEscapes) }

// escapeText returns s as literal text for a WeCom text message. Text
// messages know no markup but the HTML tags of app messages (<a href="…">),
// so only a "<" that could open a tag is replaced: "<工单号>" in a usage
// line stays as it is.
func escapeText(s string) string { return escape(s, nil) }

// escape drops carriage returns and invalid UTF-8, replaces the runes of s
// found in table and a "<" that could open a tag, and defuses what could still
// act without markup: "@all" (a mention of everyone in some clients) and
// "://" (a bare link).
func escape(s string, table map[rune]string) string {
	// First what is dropped, so that nothing dropped can join its neighbours
	// into markup afterwards.
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\r", ""), "")
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '@' && hasPrefixFold(s[i+1:], "all"):
			b.WriteString("＠")
		case r == ':' && strings.HasPrefix(s[i+1:], "//"):
			b.WriteString("：")
		case r == '<' && opensTag(s[i+1:]):
			b.WriteString("＜")
		default:
			if rep, ok := table[r]; ok {
				b.WriteString(rep)
			} else {
				b.WriteRune(r)
			}
		}
		i += size
	}
	return b.String()
}

// opensTag reports whether rest, the text after a "<", could make it a tag:
// an HTML tag or a WeCom mention starts with a letter, "/", "!", "?" or "@".
func opensTag(rest string) bool {
	if rest == "" {
		return false
	}
	c := rest[0]
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("/!?@", c) >= 0
}

// hasPrefixFold reports whether s starts with prefix, ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// validUserID reports whether id can stand in a <@userid> mention: WeCom
// userids are letters, digits and _-.@ only, at most 64 bytes.
func validUserID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.@", r)
		if !ok {
			return false
		}
	}
	return !strings.EqualFold(id, "all")
}
