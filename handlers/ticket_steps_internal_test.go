package handlers

import (
	"testing"

	"yanzhen/models"
)

// TestMayStep is the table of who may take which step on a ticket of 住建局
// sent also to the grid 环海街道 (双派单).
func TestMayStep(t *testing.T) {
	id := func(n uint) *uint { return &n }
	dir := models.NewDirectory([]models.Department{
		{ID: 1, Code: "zjj", Name: "住建局"}, {ID: 2, Code: "hhjd", Name: "环海街道"}, {ID: 3, Code: "cgj", Name: "城管局"},
	}, []models.Member{
		{ID: 1, UserID: "head", Name: "张三", DepartmentID: id(1), Role: models.RoleHead},
		{ID: 2, UserID: "handler", Name: "孙八", DepartmentID: id(1), Role: models.RoleHandler},
		{ID: 3, UserID: "reporter", Name: "钱七", DepartmentID: id(3), Role: models.RoleReporter, Covers: models.StringList{"zjj"}},
		{ID: 4, UserID: "grid", Name: "赵六", DepartmentID: id(2), Role: models.RoleHandler},
		{ID: 5, UserID: "other", Name: "陈一", DepartmentID: id(3), Role: models.RoleHead},
		{ID: 6, UserID: "leader", Name: "王五", Role: models.RoleLeader},
		{ID: 7, UserID: "supervisor", Name: "周九", Role: models.RoleSupervisor},
		{ID: 8, UserID: "hotline", Name: "刘一", Role: models.RoleHotline},
	})
	ticket := &models.Ticket{Number: "2024112700123", DepartmentID: id(1), GridDepartmentID: id(2)}
	orphan := &models.Ticket{Number: "2024112700456"}
	const (
		office = "仅承办单位的经办人、日报联络员、部门主要负责人可以"
		unit   = "工单 2024112700123 由住建局承办，您不能"
	)
	cases := []struct {
		who    string
		t      *models.Ticket
		change models.TicketChange
		want   string // "" when allowed
		grid   bool   // the step is the grid street's part
	}{
		{"head", ticket, models.EventClaimed, "", false},
		{"handler", ticket, models.EventSigned, "", false},
		{"reporter", ticket, models.EventClaimed, "", false}, // covers 住建局
		{"grid", ticket, models.EventSigned, "", true},
		{"grid", ticket, models.EventFeedback, "", true},
		{"grid", ticket, models.EventClaimed, "工单 2024112700123 由住建局承办，办结由承办单位报告；环海街道可以签收、反馈", false},
		{"other", ticket, models.EventSigned, unit + "签收", false},
		{"other", ticket, models.EventClaimed, unit + "办结", false},
		{"leader", ticket, models.EventSigned, office + "签收工单", false},
		{"supervisor", ticket, models.EventClaimed, office + "办结工单", false},
		{"hotline", ticket, models.EventFeedback, office + "反馈工单", false},
		{"head", orphan, models.EventSigned, "工单 2024112700456 尚未分派承办单位，不能签收", false},
	}
	for _, c := range cases {
		grid, err := mayStep(&request{me: dir.MemberByUserID(c.who), dir: dir}, c.t, c.change)
		if (c.want == "" && err != nil) || (c.want != "" && models.UserText(err) != c.want) {
			t.Errorf("%s %s %s: %v, want %q", c.who, c.change, c.t.Number, err, c.want)
		}
		if grid != c.grid {
			t.Errorf("%s %s %s: grid part %v, want %v", c.who, c.change, c.t.Number, grid, c.grid)
		}
	}
}
