package orgimport_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/orgimport"
	"yanzhen/sheet"
)

// districtOrg is a district of DESIGN §4b: its group covers departments
// and a street, the street's group its two communities; a third unit is
// in no group.
const districtOrg = `departments:
  - {code: zjj, name: 住建局, kind: 部门, report_required: true, sort: 10}
  - {code: cgj, name: 城管局, kind: 部门, report_required: true, sort: 11}
  - {code: jyj, name: 教育局, kind: 部门, sort: 12}
  - {code: hhjd, name: 环海街道, kind: 镇街, report_required: true, sort: 50}
  - {code: hbsq, name: 海滨社区, kind: 社区, parent: hhjd, report_required: true, sort: 60}
  - {code: lhsq, name: 临海社区, kind: 社区, parent: hhjd, report_required: true, sort: 61}
groups:
  - {code: qu, name: 区联系服务群众工作群, chat_id: wrkQu001, units: [zjj, cgj, hhjd], report_at: "18:00", remind_at: "17:30"}
  - {code: hh, name: 环海街道工作群, chat_id: wrkHh001, robot: hh, units: [海滨社区, lhsq], report_at: "17:30", remind_at: "17:00"}
`

// groupsOf returns the stored groups by code with their units' codes.
func groupsOf(t *testing.T, s *models.Store) map[string][]string {
	t.Helper()
	dir, err := s.Directory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := s.Groups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, g := range groups {
		codes := []string{}
		for _, id := range g.Units {
			codes = append(codes, dir.Department(id).Code)
		}
		out[g.Code] = codes
	}
	return out
}

func TestImportGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res, err := orgimport.Apply(ctx, s, parseYAML(t, districtOrg+`  - {code: bad1, name: 坏群, chat_id: wrkBad1, units: [nowhere]}
  - {code: bad2, name: 坏群, chat_id: wrkBad2, units: [zjj]}
  - {code: bad3, name: 坏群, report_at: "25:00"}
  - {code: bad4, name: 坏群, remind_at: "18:30", report_at: "18:00"}
  - {code: bad5, name: 坏群, robot: nobody}
  - {code: bad6, name: 坏群, chat_id: wrkQu001}
  - {code: qu, name: 重复}
`), []string{"hh"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Error())
		}
		want := []string{
			"groups 第 11 行：单位 nowhere 不存在",
			"groups 第 12 行：单位 住建局 已在第 9 行的工作群中，一个单位只能属于一个工作群",
			`groups 第 13 行：日报时间 "25:00" 应为 HH:MM，如 17:30`,
			"groups 第 14 行：提醒时间 18:30 应早于日报时间 18:00",
			"groups 第 15 行：机器人 nobody 未在配置 wecom.robots 中",
			"groups 第 16 行：群聊 wrkQu001 与第 9 行重复",
			"groups 第 17 行：工作群编码 qu 与第 9 行重复",
		}
		if !slices.Equal(got, want) {
			t.Errorf("refusals:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if stored := groupsOf(t, s); len(stored) != 2 || !slices.Equal(stored["qu"], []string{"zjj", "cgj", "hhjd"}) || !slices.Equal(stored["hh"], []string{"hbsq", "lhsq"}) {
			t.Errorf("stored groups %v", stored)
		}
		set, err := s.GroupSet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		hh := set.Of("hh")
		if hh.ChatID != "wrkHh001" || hh.Robot != "hh" || hh.ReportAt != "17:30" || hh.RemindAt != "17:00" || set.ByChat("wrkHh001") != hh {
			t.Errorf("group hh %+v", hh)
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 教育局 is in no group: the first group, the district's, is its.
		if jyj := dir.FindDepartments("教育局")[0]; set.Home(jyj.ID) != "qu" || set.Default().Code != "qu" {
			t.Errorf("教育局 belongs to %q", set.Home(jyj.ID))
		}
		// The same file again changes nothing.
		res, err = orgimport.Apply(ctx, s, parseYAML(t, districtOrg), []string{"hh"})
		if err != nil || res.Created != 0 || res.Updated != 0 || len(res.Errors) != 0 {
			t.Errorf("again: %s %v %v", res.Summary(), res.Errors, err)
		}
	})
}

// TestImportMovesAUnitBetweenGroups: a file that moves a unit from one
// group to another lands whichever group comes first, and a group of the
// store that the file does not name keeps its units.
func TestImportMovesAUnitBetweenGroups(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		if _, err := orgimport.Apply(ctx, s, parseYAML(t, districtOrg), nil); err != nil {
			t.Fatal(err)
		}
		moved := strings.Replace(strings.Replace(districtOrg, "units: [zjj, cgj, hhjd]", "units: [zjj, cgj, hhjd, lhsq]", 1),
			"units: [海滨社区, lhsq]", "units: [海滨社区]", 1)
		res, err := orgimport.Apply(ctx, s, parseYAML(t, moved), nil)
		if err != nil || res.Updated != 2 || len(res.Errors) != 0 {
			t.Fatalf("move: %s %v %v", res.Summary(), res.Errors, err)
		}
		if stored := groupsOf(t, s); !slices.Equal(stored["qu"], []string{"zjj", "cgj", "hhjd", "lhsq"}) || !slices.Equal(stored["hh"], []string{"hbsq"}) {
			t.Errorf("after the move %v", stored)
		}
		// A group of another file cannot take a unit of a group this file leaves alone.
		res, err = orgimport.Apply(ctx, s, parseYAML(t, "groups:\n  - {code: other, name: 另一群, chat_id: wrkOther, units: [zjj]}\n"), nil)
		if err != nil || len(res.Errors) != 1 || res.Errors[0].Reason != "单位 住建局 已属于工作群 qu" {
			t.Errorf("a unit of a group the file leaves alone: %v %v", res.Errors, err)
		}
	})
}

// TestImportACity: two districts on one database, each with a 住建局 of
// its own: names resolve within the member's district, and a group takes
// units of its own district only.
func TestImportACity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res, err := orgimport.Apply(ctx, s, parseYAML(t, `departments:
  - {code: xc-zjj, name: 住建局, district: 西城区, report_required: true}
  - {code: dc-zjj, name: 住建局, district: 东城区, report_required: true}
members:
  - {userid: xc1, name: 西城负责人, department: 住建局, district: 西城区, role: head}
  - {userid: dc1, name: 东城负责人, department: dc-zjj, role: head}
  - {userid: xcadmin, name: 西城管理员, district: 西城区, role: admin}
  - {userid: bad, name: 错区, department: xc-zjj, district: 东城区, role: head}
groups:
  - {code: xc, name: 西城区工作群, district: 西城区, chat_id: wrkXc, units: [住建局]}
  - {code: dc, name: 东城区工作群, district: 东城区, chat_id: wrkDc, units: [xc-zjj]}
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Error())
		}
		want := []string{"members 第 8 行：部门 住建局 不属于东城区", "groups 第 11 行：单位 住建局 不属于工作群所在的东城区"}
		if !slices.Equal(got, want) {
			t.Errorf("refusals %q, want %q", got, want)
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		xc := dir.MemberByUserID("xc1")
		if d := dir.Department(*xc.DepartmentID); d.Code != "xc-zjj" || dir.DistrictOf(xc) != "西城区" {
			t.Errorf("西城's head is in %s of %s", d.Code, dir.DistrictOf(xc))
		}
		west := dir.Within("西城区")
		if len(west.Departments) != 1 || west.Departments[0].Code != "xc-zjj" || west.MemberByUserID("dc1") != nil || west.MemberByUserID("xcadmin") == nil {
			t.Errorf("西城's directory: %+v", west.Departments)
		}
		if stored := groupsOf(t, s); !slices.Equal(stored["xc"], []string{"xc-zjj"}) || stored["dc"] != nil {
			t.Errorf("stored groups %v", stored)
		}
	})
}

// TestImportGroupsFromXLSX: the 群 sheet of the xlsx org file, its times
// typed as text or kept by Excel as a time of day.
func TestImportGroupsFromXLSX(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	for name, rows := range map[string][][]any{
		orgimport.SheetDepartments: {{"编码", "名称", "类型", "上级"}, {"hhjd", "环海街道", "镇街", ""}, {"hbsq", "海滨社区", "社区", "hhjd"}, {"lhsq", "临海社区", "社区", "hhjd"}},
		orgimport.SheetMembers:     {{"账号", "姓名", "部门", "角色"}, {"lin", "林建军", "环海街道", "一把手"}},
		orgimport.SheetGroups:      {{"编码", "名称", "群聊ID", "机器人", "单位", "日报时间", "提醒时间"}, {"hh", "环海街道工作群", "wrkHh001", "hh", "海滨社区、临海社区", 0.7291666666666666, "17:00"}},
	} {
		if _, err := f.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(name, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.DeleteSheet("Sheet1")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	file, err := orgimport.ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), sheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Groups) != 1 || file.Groups[0].Value.ReportAt != "17:30" || file.Groups[0].Value.RemindAt != "17:00" ||
		!slices.Equal(file.Groups[0].Value.Units, []string{"海滨社区", "临海社区"}) || file.Groups[0].Num != 2 || file.Groups[0].Sheet != "群" {
		t.Fatalf("read %+v", file.Groups)
	}
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res, err := orgimport.Apply(ctx, s, file, nil)
		if err != nil || len(res.Errors) != 0 || res.Created != 5 {
			t.Fatalf("%s %v %v", res.Summary(), res.Errors, err)
		}
		if stored := groupsOf(t, s); !slices.Equal(stored["hh"], []string{"hbsq", "lhsq"}) {
			t.Errorf("stored %v", stored)
		}
	})
}
