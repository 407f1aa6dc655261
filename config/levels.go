package config

import (
	"regexp"
	"sort"
	"strings"
)

// The configuration of work groups and levels (issue 15): the robots of the
// groups (wecom.robots, whose secrets may come from the environment) and
// the limits of 提级 (rules.raise).

// RaiseDefault is the key of Rules.Raise's limit for the categories not listed.
const RaiseDefault = "default"

// RaiseLimit returns how long a ticket of a category may stay at a level
// (社区, 镇街) before it is raised, and false when the level keeps its tickets.
func (r Rules) RaiseLimit(level, category string) (Span, bool) {
	limits, ok := r.Raise[level]
	if !ok {
		return Span{}, false
	}
	if l, ok := limits[category]; ok {
		return l, true
	}
	l, ok := limits[RaiseDefault]
	return l, ok
}

// robotsEnv starts the env overrides of wecom.robots.
const robotsEnv = EnvPrefix + "WECOM_ROBOTS_"

// applyRobotsEnv sets the robots of wecom.robots from
// YANZHEN_WECOM_ROBOTS_<NAME>_WEBHOOK_KEY, _TOKEN and _AES_KEY (NAME in
// capitals), adding a robot the file does not name.
func (c *Config) applyRobotsEnv(vars map[string]string) {
	for name, value := range vars {
		rest, ok := strings.CutPrefix(name, robotsEnv)
		if !ok {
			continue
		}
		for _, f := range []struct {
			suffix string
			set    func(*Robot)
		}{
			{"_WEBHOOK_KEY", func(r *Robot) { r.WebhookKey = Secret(value) }},
			{"_AES_KEY", func(r *Robot) { r.AESKey = Secret(value) }},
			{"_TOKEN", func(r *Robot) { r.Token = Secret(value) }},
		} {
			robot, ok := strings.CutSuffix(rest, f.suffix)
			if !ok || robot == "" {
				continue
			}
			robot = strings.ToLower(robot)
			if c.WeCom.Robots == nil {
				c.WeCom.Robots = map[string]Robot{}
			}
			r := c.WeCom.Robots[robot]
			f.set(&r)
			c.WeCom.Robots[robot] = r
			break
		}
	}
}

// RobotNames returns the names of wecom.robots in order.
func (w WeCom) RobotNames() []string {
	names := make([]string, 0, len(w.Robots))
	for n := range w.Robots {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// raiseLevels are the levels whose tickets may be raised (Rules.Raise).
var raiseLevels = []string{"社区", "镇街"}

func (c *Config) validateRaise() error {
	for level, limits := range c.Rules.Raise {
		key := "rules.raise." + level
		if !oneOf(level, raiseLevels...) {
			return &Error{Key: key, Rule: "must be 社区 or 镇街"}
		}
		for cat, l := range limits {
			if l.N <= 0 {
				return &Error{Key: key + "." + cat, Rule: "must be positive"}
			}
		}
	}
	return nil
}

// robotName is what a robot of wecom.robots may be called: the org file's
// groups name it, and env overrides spell it in capitals.
var robotName = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)
