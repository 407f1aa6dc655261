package demo

import "context"

// The demo's work groups: the district's and 环海街道's. The page switches
// between them; what is said goes to the chat of the group shown, and the
// jobs run for it.

// groupView is a work group as the page's switcher shows it: its code, its
// name, its chat (the page shows the events of that chat) and its jobs at
// its own times.
type groupView struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Chat string `json:"chat"`
	Jobs []job  `json:"jobs"`
}

// chatOf returns the chat of the work group with a code ("" the first).
func (s *Server) chatOf(ctx context.Context, group string) (string, error) {
	set, err := s.store.GroupSet(ctx)
	if err != nil {
		return "", err
	}
	g := set.Of(group)
	switch {
	case g == nil:
		return "", badRequest("没有工作群 %s", group)
	case g.ChatID == "":
		return ChatID, nil
	}
	return g.ChatID, nil
}
