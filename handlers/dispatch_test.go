package handlers

import (
	"strings"
	"testing"
	"time"

	"yanzhen/calendar"
	"yanzhen/config"
	"yanzhen/handlers/timephrase"
	"yanzhen/models"
)

// draftFixture is a directory without a database and a handler able to read
// dispatches against it.
func draftFixture(t *testing.T) (*Handler, *models.Directory, time.Time) {
	cfg := config.Default()
	loc := cfg.Location()
	id := func(n uint) *uint { return &n }
	dir := models.NewDirectory([]models.Department{
		{ID: 1, Code: "zjj", Name: "住建局", Aliases: models.StringList{"住建", "区住建局"}},
		{ID: 2, Code: "hhjd", Name: "环海街道", Aliases: models.StringList{"环海"}},
		{ID: 3, Code: "cgj", Name: "城管局", Aliases: models.StringList{"城管"}},
		{ID: 4, Code: "sjj", Name: "市监局", Aliases: models.StringList{"监管"}},
		{ID: 5, Code: "scjgj", Name: "市场监管局", Aliases: models.StringList{"监管"}},
	}, []models.Member{
		{ID: 1, UserID: "zhangsan", Name: "张三", DepartmentID: id(1), Role: models.RoleHead},
		{ID: 2, UserID: "zhangwei1", Name: "张伟", DepartmentID: id(1), Role: models.RoleHandler},
		{ID: 3, UserID: "zhangwei2", Name: "张伟", DepartmentID: id(3), Role: models.RoleHandler},
		{ID: 4, UserID: "wangwu", Name: "王五", Aliases: models.StringList{"王主任"}, Role: models.RoleLeader},
	})
	g, err := NewGrammar(cfg.WeCom.BotName, cfg.Rules.TicketNumber)
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar.New(loc, nil)
	h := &Handler{cfg: cfg.Domain(), grammar: g, cal: cal, phrases: timephrase.Parser{Loc: loc, Cal: cal, OffWork: 18 * time.Hour}}
	return h, dir, time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
}

func TestDraftDispatch(t *testing.T) {
	h, dir, now := draftFixture(t)
	cases := []struct {
		text        string
		targets     string // labels joined by |
		tickets     string
		deadline    string // "2006-01-02 15:04" or ""
		instruction string
		err         string
	}{
		{text: "@住建局 @环海街道 工单2024112700123 明天中午前办结并回复群众",
			targets: "住建局|环海街道", tickets: "2024112700123", deadline: "2026-11-21 12:00", instruction: "办结并回复群众"},
		{text: "住建局、环海街道 明天下班前报送整改方案", targets: "住建局|环海街道", deadline: "2026-11-21 18:00", instruction: "报送整改方案"},
		{text: "住建和环海 周一前反馈", targets: "住建局|环海街道", deadline: "2026-11-23 18:00", instruction: "反馈"},
		{text: "@住建局明天中午前办结", targets: "住建局", deadline: "2026-11-21 12:00", instruction: "办结"},
		{text: "@张三 牵头，会同城管局核实情况", targets: "张三|城管局", instruction: "牵头,会同城管局核实情况"},
		{text: "请住建局和群众沟通", targets: "住建局", instruction: "请住建局和群众沟通"},
		{text: "@住建局 和群众沟通", targets: "住建局", instruction: "和群众沟通"},
		{text: "@王主任 @zhangwei2 3个工作日内办结 BJ2024112700123、2024112700456",
			targets: "王五|张伟", tickets: "BJ2024112700123|2024112700456", deadline: "2026-11-25 18:00", instruction: "办结"},
		{text: "@雁阵 @住建局 工单号:2024112700123", targets: "住建局", tickets: "2024112700123", instruction: "请办理上述工单"},
		{text: "@住建局 @住建 办结", targets: "住建局", instruction: "办结"},
		{text: "@住建局 @张伟 办结", err: "“张伟”对应多个对象，请指明：@zhangwei1（张伟，住建局）、@zhangwei2（张伟，城管局）"},
		{text: "监管 办结", err: "“监管”对应多个对象，请指明：市监局（部门）、市场监管局（部门）"},
		{text: "@住建局 @规划局 @李四 办结", err: "未找到调度对象：@规划局、@李四。请核对名称后重新发送"},
		{text: "@住建局 昨天办结", targets: "住建局", instruction: "昨天办结"},
		{text: "@住建局 今天9点前办结", err: "截止时间已过：今天9点前（11月20日 09:00），调度未下达。请修改时限后重新发送"},
		{text: "核实情况", err: "请指明调度对象，如：调度 @住建局 明天下班前反馈"},
		{text: "@住建局", err: "请写明调度要求，如：调度 @住建局 明天中午前办结并回复群众"},
	}
	for _, c := range cases {
		d, err := h.draftDispatch(dir, normalize(c.text, "", false).text, now)
		if c.err != "" || err != nil {
			if models.UserText(err) != c.err {
				t.Errorf("%q: error %v, want %q", c.text, err, c.err)
			}
			continue
		}
		var labels []string
		for _, tg := range d.targets {
			labels = append(labels, tg.label())
		}
		deadline := ""
		if d.deadline != nil {
			deadline = d.deadline.Format("2006-01-02 15:04")
		}
		if got := strings.Join(labels, "|"); got != c.targets {
			t.Errorf("%q: targets %s, want %s", c.text, got, c.targets)
		}
		if got := strings.Join(d.tickets, "|"); got != c.tickets {
			t.Errorf("%q: tickets %s, want %s", c.text, got, c.tickets)
		}
		if deadline != c.deadline || d.instruction != c.instruction {
			t.Errorf("%q: deadline %q instruction %q, want %q %q", c.text, deadline, d.instruction, c.deadline, c.instruction)
		}
	}
}

func TestDeadlineText(t *testing.T) {
	loc := config.Default().Location()
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, loc)
	cases := map[time.Time]string{
		time.Date(2026, 11, 21, 12, 0, 0, 0, loc): "11月21日（周六）12:00",
		time.Date(2026, 11, 21, 0, 0, 0, 0, loc):  "11月20日（周五）24:00",
		time.Date(2027, 1, 5, 18, 0, 0, 0, loc):   "2027年1月5日（周二）18:00",
	}
	for in, want := range cases {
		if got := deadlineText(in, now); got != want {
			t.Errorf("deadlineText(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestInstructionKeepsTheSendersWriting(t *testing.T) {
	h, dir, now := draftFixture(t)
	for text, want := range map[string]string{
		// A deadline phrase inside a sentence stays where it is written.
		"调度 @张三 牵头，会同城管局核实情况，明天中午前报送（附照片）":        "牵头，会同城管局核实情况，明天中午前报送（附照片）",
		"调度 @住建局 学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治": "学府路拥堵问题于12月10日前拿出方案，12月20日前完成整治",
		// At the start or the end of the instruction it is cut out.
		"调度 @住建局 报送整改方案，周一下班前":    "报送整改方案",
		"调度 ＠住建局　３个工作日内办结；回复群众":   "办结；回复群众",
		"调度 @住建局 工单2024112700123": "请办理上述工单",
	} {
		c := h.grammar.Parse(text)
		d, err := h.draftDispatch(dir, c.Word, now)
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := c.original(d.instruction); got != want {
			t.Errorf("%q: instruction %q, want %q", text, got, want)
		}
	}
}
