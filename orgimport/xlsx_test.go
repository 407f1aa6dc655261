package orgimport_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/orgimport"
	"yanzhen/sheet"
)

// workbook builds an org workbook the way an office would fill it in.
func workbook(t *testing.T, depts, members [][]any) *bytes.Buffer {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	write := func(sheet string, rows [][]any) {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(sheet, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(orgimport.SheetDepartments, depts)
	write(orgimport.SheetMembers, members)
	f.DeleteSheet("Sheet1")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return &buf
}

func TestImportXLSX(t *testing.T) {
	buf := workbook(t,
		[][]any{
			{"编码", "名称", "别名", "类型", "上级", "领域", "需报日报", "排序"},
			{"zjj", "住建局", "住建、区住建局", "部门", "", "老旧小区改造", "是", 10},
			{"hhjd", "环海街道", "环海", "镇街", "", "", "是", 50},
			{"sq1", "海景社区", "", "社区", "hhjd", "", "否", 60},
			{"x", "某局", "", "部门", "", "", "也许", 1},
		},
		[][]any{
			{"账号", "姓名", "手机", "部门", "角色", "主要领导"},
			{"zhangsan", "张三", 13800000001, "住建局", "一把手", ""},
			{"wangwu", "王五", "", "", "区领导", "是"},
			{"", "无名", "", "住建局", "经办人", ""},
		},
	)
	file, err := orgimport.ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), sheet.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res, err := orgimport.Apply(ctx, s, file, nil)
		if err != nil {
			t.Fatal(err)
		}
		var errs []string
		for _, e := range res.Errors {
			errs = append(errs, e.Error())
		}
		want := "部门 第 5 行：需报日报：应为 是 或 否\n人员 第 4 行：缺少账号（企业微信 userid）"
		if strings.Join(errs, "\n") != want {
			t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(errs, "\n"), want)
		}
		if res.Created != 5 {
			t.Errorf("summary %s", res.Summary())
		}
		m, err := s.MemberByUserID(ctx, "zhangsan")
		if err != nil || m.Mobile != "13800000001" || m.Role != models.RoleHead || m.Department.Code != "zjj" {
			t.Errorf("member from a numeric mobile cell: %+v %v", m, err)
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := dir.FindDepartments("区住建局"); len(d) != 1 || !d[0].ReportRequired || d[0].Domain != "老旧小区改造" {
			t.Errorf("aliases from one cell: %+v", d)
		}
		if w := dir.MemberByUserID("wangwu"); w == nil || !w.Main {
			t.Errorf("main leader flag lost: %+v", w)
		}
	})
}

func TestXLSXWithoutMemberSheet(t *testing.T) {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", orgimport.SheetDepartments)
	f.SetSheetRow(orgimport.SheetDepartments, "A1", &[]any{"编码", "名称"})
	var buf bytes.Buffer
	f.Write(&buf)
	_, err := orgimport.ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), sheet.Limits{})
	if err == nil || !strings.Contains(err.Error(), "人员") {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestOrgFilesAreBounded(t *testing.T) {
	// A YAML org file over 4 MB is refused before it is parsed.
	big := "members:\n" + strings.Repeat("  - {userid: a, name: 甲, role: leader}\n", 5<<20/40)
	if _, err := orgimport.ParseYAML(strings.NewReader(big)); err == nil || err.Error() != "组织架构 YAML 文件超过 4 MB 上限：请确认文件是否正确" {
		t.Errorf("big yaml: %v", err)
	}
	// A row of the xlsx over a limit is refused with its number; the others land.
	buf := workbook(t,
		[][]any{{"编码", "名称"}, {"zjj", "住建局"}},
		[][]any{{"账号", "姓名", "角色"}, {"zhangsan", "张三", "区领导"}, {"lisi", strings.Repeat("长", 400), "区领导"}, {"wangwu", "王五", "区领导"}},
	)
	file, err := orgimport.ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), sheet.Limits{CellBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(file.Members) != 2 || len(file.Errors) != 1 || file.Errors[0].Error() != "人员 第 3 行：姓名：单元格超过 1000 字节：本行未导入" {
		t.Errorf("members %+v, errors %v", file.Members, file.Errors)
	}
	// A workbook over the file limit is refused.
	if _, err := orgimport.ParseXLSX(bytes.NewReader(buf.Bytes()), int64(buf.Len()), sheet.Limits{FileBytes: 1024}); err == nil ||
		!strings.Contains(err.Error(), "文件超过 1 KB 上限") {
		t.Errorf("over the file limit: %v", err)
	}
}
