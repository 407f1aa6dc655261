package orgimport_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"yanzhen/models"
	"yanzhen/models/storetest"
	"yanzhen/orgimport"
)

var ctx = context.Background()

func importFile(t *testing.T, s *models.Store, path string) orgimport.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := orgimport.ParseYAML(f)
	if err != nil {
		t.Fatal(err)
	}
	res, err := orgimport.Apply(ctx, s, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestImportGoodRowsLandBadRowsNamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res := importFile(t, s, "testdata/org.yaml")
		if res.Created != 7 || res.Updated != 0 || res.Skipped != 6 {
			t.Errorf("first import: %s", res.Summary())
		}
		want := []string{
			"departments 第 5 行：名称或别名 住建 已被部门 zjj 使用",
			"departments 第 6 行：类型 \"委员会\" 无效，应为 部门、镇街 或 社区",
			"members 第 11 行：部门 nowhere 不存在",
			"members 第 12 行：账号 \"bad id\" 格式不正确，只能含字母、数字和 _ . @ -",
			"members 第 13 行：角色 \"boss\" 无效，应为 leader、head、reporter、handler、supervisor、hotline 或 admin",
			"members 第 14 行：未知字段 mobil",
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Error())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sq := dir.FindDepartments("海景社区")
		hh := dir.FindDepartments("环海")
		if len(sq) != 1 || len(hh) != 1 || sq[0].ParentID == nil || *sq[0].ParentID != hh[0].ID {
			t.Errorf("a parent defined later in the file was not linked: %+v", sq)
		}
		li := dir.MemberByUserID("lisi")
		if li == nil || li.Role != models.RoleReporter || !li.Covers.Contains("zjj") {
			t.Errorf("reporter = %+v", li)
		}
		if w := dir.MemberByUserID("wangwu"); w == nil || !w.Main || w.DepartmentID != nil {
			t.Errorf("main leader = %+v", w)
		}
		if h := dir.MemberByUserID("liuyi"); h == nil || h.Role != models.RoleHotline || h.DepartmentID != nil {
			t.Errorf("the 12345 office = %+v", h)
		}

		again := importFile(t, s, "testdata/org.yaml")
		if again.Created != 0 || again.Updated != 0 || again.Skipped != res.Skipped+res.Created {
			t.Errorf("second import changed rows: %s", again.Summary())
		}
		var depts, members int64
		if err := s.DB(ctx).Model(&models.Department{}).Count(&depts).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.DB(ctx).Model(&models.Member{}).Count(&members).Error; err != nil {
			t.Fatal(err)
		}
		if depts != 3 || members != 4 {
			t.Errorf("rows after two imports: %d departments, %d members", depts, members)
		}
	})
}

func TestRenameAndMoveAlias(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		first := &orgimport.File{Departments: []orgimport.Row[orgimport.Department]{
			{Sheet: "部门", Num: 2, Value: orgimport.Department{Code: "zjj", Name: "住建局", Aliases: []string{"建委"}}},
			{Sheet: "部门", Num: 3, Value: orgimport.Department{Code: "cgj", Name: "城管局"}},
		}}
		if _, err := orgimport.Apply(ctx, s, first, nil); err != nil {
			t.Fatal(err)
		}
		// The alias moves from zjj to cgj in one file: both rows change together.
		second := &orgimport.File{Departments: []orgimport.Row[orgimport.Department]{
			{Sheet: "部门", Num: 2, Value: orgimport.Department{Code: "zjj", Name: "住房和城乡建设局"}},
			{Sheet: "部门", Num: 3, Value: orgimport.Department{Code: "cgj", Name: "城管局", Aliases: []string{"建委"}}},
		}}
		res, err := orgimport.Apply(ctx, s, second, nil)
		if err != nil || len(res.Errors) != 0 || res.Updated != 2 {
			t.Fatalf("move alias: %s %v %v", res.Summary(), res.Errors, err)
		}
	})
}

// parseYAML parses an org file given as text.
func parseYAML(t *testing.T, text string) *orgimport.File {
	t.Helper()
	f, err := orgimport.ParseYAML(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDuplicateUserIDsAreNamedByRow(t *testing.T) {
	// WeCom userids do not differ by case: DupUser and dupuser are one
	// member on both databases, and a file naming one twice is told so.
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		res, err := orgimport.Apply(ctx, s, parseYAML(t, `members:
  - {userid: DupUser, name: 甲, role: leader}
  - {userid: zhangsan, name: 张三, role: leader}
  - {userid: dupuser, name: 乙, role: leader}
  - {userid: DUPUSER, name: 丙, role: supervisor}
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Errors {
			got = append(got, e.Error())
		}
		want := "members 第 4 行：账号 dupuser 与第 2 行重复（企业微信账号不区分大小写）\n" +
			"members 第 5 行：账号 DUPUSER 与第 2 行重复（企业微信账号不区分大小写）"
		if res.Created != 2 || strings.Join(got, "\n") != want {
			t.Errorf("%s\n%s", res.Summary(), strings.Join(got, "\n"))
		}
		// A later file with another spelling updates the same member, which
		// takes the new spelling.
		res, err = orgimport.Apply(ctx, s, parseYAML(t, "members:\n  - {userid: dupUSER, name: 丁, role: leader}\n"), nil)
		if err != nil || res.Created != 0 || res.Updated != 1 || len(res.Errors) != 0 {
			t.Errorf("second file: %s %v %v", res.Summary(), res.Errors, err)
		}
		var members []models.Member
		if err := s.DB(ctx).Order("id").Find(&members).Error; err != nil {
			t.Fatal(err)
		}
		if len(members) != 2 || members[0].UserID != "dupUSER" || members[0].Name != "丁" {
			t.Errorf("members = %+v", members)
		}
		for _, id := range []string{"dupuser", "DupUser", "DUPUSER"} {
			m, err := s.MemberByUserID(ctx, id)
			if err != nil || m.ID != members[0].ID {
				t.Errorf("MemberByUserID(%q) = %+v, %v", id, m, err)
			}
		}
		dir, err := s.Directory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := dir.MemberByUserID("ZHANGSAN"); m == nil || m.Name != "张三" {
			t.Errorf("Directory.MemberByUserID(ZHANGSAN) = %+v", m)
		}
	})
}
