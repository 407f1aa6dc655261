package config

import (
	"fmt"
	"net/url"
)

// The rules of Validate that take more than a line: the escalation ladder,
// the callback crypto, the score weights, and the helpers of the checks.

func (c *Config) validateLadder() error {
	for i, s := range c.Rules.Escalation {
		key := fmt.Sprintf("rules.escalation[%d]", i)
		if !oneOf(s.Level, LevelWarn, LevelAlert, LevelUrge, LevelBlacklist) {
			return &Error{Key: key + ".level", Rule: "must be warn, alert, urge or blacklist"}
		}
		if !oneOf(s.Notify, NotifyHandler, NotifyHead, NotifyLeader, NotifyGroup) {
			return &Error{Key: key + ".notify", Rule: "must be handler, head, leader or group"}
		}
		if s.At.Unit == Days {
			return &Error{Key: key + ".at", Rule: "must be in working days (wd) or hours (h)"}
		}
	}
	return nil
}

func (c *Config) validateCrypto() error {
	pairs := []struct {
		key         string
		token, aes  Secret
		needsCorpID bool
	}{
		{"wecom.app_callback", c.WeCom.AppCallback.Token, c.WeCom.AppCallback.AESKey, true},
		{"wecom.robot", c.WeCom.Robot.Token, c.WeCom.Robot.AESKey, false},
		{"wecom.aibot", c.WeCom.AIBot.Token, c.WeCom.AIBot.AESKey, false},
	}
	for _, name := range c.WeCom.RobotNames() {
		r := c.WeCom.Robots[name]
		key := "wecom.robots." + name
		switch {
		case !robotName.MatchString(name):
			return &Error{Key: key, Rule: "must be named with lower-case letters, digits and _ (at most 32)"}
		case !r.WebhookKey.IsSet():
			return &Error{Key: key + ".webhook_key", Rule: "must be set"}
		case r.ChatID != "":
			return &Error{Key: key + ".chat_id", Rule: "belongs to the group in the org file (groups[].chat_id)"}
		}
		pairs = append(pairs, struct {
			key         string
			token, aes  Secret
			needsCorpID bool
		}{key, r.Token, r.AESKey, false})
	}
	for _, p := range pairs {
		if p.aes.IsSet() && len(p.aes.Reveal()) != 43 {
			return &Error{Key: p.key + ".aes_key", Rule: "must be 43 characters"}
		}
		if p.token.IsSet() != p.aes.IsSet() {
			return &Error{Key: p.key, Rule: "needs both token and aes_key, or neither"}
		}
		if p.needsCorpID && p.token.IsSet() && c.WeCom.CorpID == "" {
			return &Error{Key: "wecom.corp_id", Rule: "must be set when wecom.app_callback is"}
		}
	}
	return nil
}

// check is one rule of Validate: ok, or the key breaks the rule.
type check struct {
	ok        bool
	key, rule string
}

func weightsOK(s Scores) bool {
	sum := s.Response + s.Resolution + s.Satisfaction
	return s.Response >= 0 && s.Resolution >= 0 && s.Satisfaction >= 0 && sum > 0.999 && sum < 1.001
}

func oneOf[T comparable](v T, options ...T) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
