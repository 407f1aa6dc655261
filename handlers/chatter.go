package handlers

import (
	"strings"
	"unicode/utf8"
)

// Chatter is what the bot leaves unanswered in a group. Every group message
// reaches the bot by an @-mention, and people @ it with 好的，收到 or 谢谢 as
// they would a colleague; answering each with 「未能识别」 makes the group
// mute it. So in a group a message that names no command is answered only
// when it looks like a command (looksLikeCommand), and then with the usage
// of the command it seems to mean. A single chat is a conversation with the
// bot: there every message gets an answer.

// everydayWords are command words that are also everyday words of a group
// (收到, 查看, 领导交办的事项): at the start of a message they are the
// command (收到 signs), but inside a message they do not make it look like one.
var everydayWords = map[string]bool{
	"收到": true, "确认收到": true, "完成": true, "已完成": true, "已办结": true, "确认": true, "取消": true,
	"汇报": true, "进展": true, "功能": true, "菜单": true, "命令": true, "查看": true, "查询": true, "交办": true,
}

// looksLikeCommand reports whether a text that names no command looks like
// one, and the command it seems to mean: it holds a ticket number, a
// dispatch code (D12) or an item's code (Z12), which 查 reads, or a command word of two characters or
// more that is not one of everydayWords (排名 in 住建局的排名多少); the earliest such
// word wins. Greetings, thanks, acknowledgements and emoji do not.
func (g *Grammar) looksLikeCommand(text string) (*spec, bool) {
	var best *spec
	at := len(text) + 1
	for _, sp := range g.specs {
		for _, w := range append([]string{sp.Name}, sp.Aliases...) {
			if utf8.RuneCountInString(w) < 2 || everydayWords[w] {
				continue
			}
			if i := wordIndex(text, w); i >= 0 && i < at {
				best, at = sp, i
			}
		}
	}
	if best != nil {
		return best, true
	}
	if g.tickets.MatchString(text) || hasDispatchCode(text) {
		return g.lookupName("查"), true
	}
	return nil, false
}

// wordIndex returns the index of w in text, or -1; a word in ASCII letters
// counts only standing alone (help, not helpful).
func wordIndex(text, w string) int {
	for from := 0; ; {
		i := strings.Index(text[from:], w)
		if i < 0 {
			return -1
		}
		i += from
		end := i + len(w)
		if !isWordByte(w[0]) || ((i == 0 || !isWordByte(text[i-1])) && (end == len(text) || !isWordByte(text[end]))) {
			return i
		}
		from = end
	}
}

// hasDispatchCode reports whether text holds a dispatch code (D12) or an
// item's code (Z12) standing alone.
func hasDispatchCode(text string) bool {
	for i := 0; i < len(text); i++ {
		if i > 0 && isWordByte(text[i-1]) {
			continue
		}
		if _, _, ok := dispatchCode(text, i); ok {
			return true
		}
		if _, _, ok := itemCode(text, i); ok {
			return true
		}
	}
	return false
}

// lookupName returns the command named name.
func (g *Grammar) lookupName(name string) *spec {
	for _, sp := range g.specs {
		if sp.Name == name {
			return sp
		}
	}
	return nil
}
