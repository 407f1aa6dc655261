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

// richMarkdownEscapes add to markdownEscapes what opens markup in the AI
// bot's standard markdown: emphasis (_), strikethrough and fences (~),
// tables (|), the escape character (\) and entities (&#64;all).
var richMarkdownEscapes = func() map[rune]string {
	t := map[rune]string{'_': "＿", '~': "～", '|': "｜", '\\': "＼", '&': "＆"}
	for r, rep := range markdownEscapes {
		t[r] = rep
	}
	return t
}()

// escapeRichMarkdown returns s as literal text for the AI bot's standard
// markdown. Besides the characters of richMarkdownEscapes, it defuses what
// opens a block at the start of a line (a list, a setext heading, a rule)
// after each newline s carries, and a bare "www." address, which standard
// markdown makes a link.
func escapeRichMarkdown(s string) string {
	lines := strings.Split(escape(s, richMarkdownEscapes), "\n")
	for i := range lines {
		if i > 0 {
			lines[i] = defuseLineStart(lines[i])
		}
		lines[i] = defuseWWW(lines[i])
	}
	return strings.Join(lines, "\n")
}

// blockMarks are the characters that open a block at the start of a line in
// standard markdown and are not escaped everywhere: a list item (- +), a
// setext heading or rule (= -), with their full-width look-alikes.
var blockMarks = map[byte]string{'-': "－", '+': "＋", '=': "＝"}

// defuseLineStart replaces the mark that would open a block at the start of
// line, after any spaces: "- x", "+ x", "===", or an ordered item "1. x"
// (whose "." or ")" is replaced).
func defuseLineStart(line string) string {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i == len(line) {
		return line
	}
	if rep, ok := blockMarks[line[i]]; ok {
		return line[:i] + rep + line[i+1:]
	}
	j := i
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j > i && j < len(line) && (line[j] == '.' || line[j] == ')') {
		return line[:j] + map[byte]string{'.': "．", ')': "）"}[line[j]] + line[j+1:]
	}
	return line
}

// defuseWWW replaces the dot of every "www." (any case), which standard
// markdown turns into a link.
func defuseWWW(s string) string {
	var b strings.Builder
	for {
		i := indexFold(s, "www.")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		b.WriteString("．")
		s = s[i+4:]
	}
}

// indexFold is strings.Index ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

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
