package wecomtest

import (
	"encoding/json"
	"time"
)

// duplicateLocked applies the duplicate check of message/send (document
// 90236) to an app message p that passed its other checks: with
// "enable_duplicate_check": 1, a request whose JSON equals one delivered
// within duplicate_check_interval (default 1800 s, at most 4 hours) is
// answered as a success and reaches nobody (req.Duplicate). It reports
// whether it answered the call.
func (s *Server) duplicateLocked(req *Request, p *payload) (answer, bool) {
	if p.EnableDuplicateCheck != 1 {
		return answer{}, false
	}
	interval := DefaultDuplicateCheck
	if p.DuplicateCheckInterval != 0 {
		interval = time.Duration(p.DuplicateCheckInterval) * time.Second
	}
	if interval < 0 || interval > MaxDuplicateCheck {
		return failure(40058, "duplicate_check_interval exceed max 14400. invalid Request Parameter"), true
	}
	key := canonical(req.Body)
	if first, ok := s.sent[key]; ok && req.Time.Sub(first) < interval {
		req.Duplicate = true
		return success(map[string]any{"invaliduser": "", "invalidparty": "", "invalidtag": "", "unlicenseduser": "", "msgid": randomHex(16)}), true
	}
	s.sent[key] = req.Time
	return answer{}, false
}

// canonical returns body, a JSON request, in one spelling whatever the
// order of its keys or its spacing: WeCom's duplicate check compares the
// request JSON.
func canonical(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return string(body)
	}
	out, err := json.Marshal(v) // maps marshal with sorted keys
	if err != nil {
		return string(body)
	}
	return string(out)
}
