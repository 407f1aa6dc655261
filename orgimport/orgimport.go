// Package orgimport loads the organisation — departments with aliases and
// parents, members with userid, name, mobile, department and role, and the
// work groups with their chats, robots, units and times — from the YAML or
// xlsx org file into the store. It is an idempotent upsert: a bad row is
// reported with its row number and reason while the good rows land. In a
// city's installation departments, members and groups carry their district;
// names are unique within a district, codes across the city.
package orgimport

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"yanzhen/models"
)

// Sheet names of the xlsx org file; 群 is optional.
const (
	SheetDepartments = "部门"
	SheetMembers     = "人员"
	SheetGroups      = "群"
)

// Department is one department row of an org file.
type Department struct {
	Code           string   `yaml:"code"`
	Name           string   `yaml:"name"`
	District       string   `yaml:"district"`
	Aliases        []string `yaml:"aliases"`
	Kind           string   `yaml:"kind"`
	Parent         string   `yaml:"parent"`
	Domain         string   `yaml:"domain"`
	ReportRequired bool     `yaml:"report_required"`
	Sort           int      `yaml:"sort"`
}

// Member is one member row of an org file. Department is a department code or name.
type Member struct {
	UserID     string   `yaml:"userid"`
	Name       string   `yaml:"name"`
	Aliases    []string `yaml:"aliases"`
	Mobile     string   `yaml:"mobile"`
	Department string   `yaml:"department"`
	Role       string   `yaml:"role"`
	District   string   `yaml:"district"`
	Main       bool     `yaml:"main"`
	Covers     []string `yaml:"covers"`
}

// File is a parsed org file: its rows with the row numbers people see, and the
// rows that could not be read at all.
type File struct {
	Departments []Row[Department]
	Members     []Row[Member]
	Groups      []Row[Group]
	Errors      []RowError
}

// Row is a row of an org file with its place: the sheet (or file section) and
// the 1-based row or line number.
type Row[T any] struct {
	Sheet string
	Num   int
	Value T
}

// RowError says which row was refused and why.
type RowError struct {
	Sheet  string
	Row    int
	Reason string
}

func (e RowError) Error() string {
	return fmt.Sprintf("%s 第 %d 行：%s", e.Sheet, e.Row, e.Reason)
}

// Result counts what an import did. Skipped counts unchanged and refused rows.
type Result struct {
	Created, Updated, Skipped int
	Errors                    []RowError
}

// Summary is the line printed after an import: 新增 N, 更新 M, 跳过 K.
func (r Result) Summary() string {
	return fmt.Sprintf("新增 %d, 更新 %d, 跳过 %d", r.Created, r.Updated, r.Skipped)
}

// record counts the outcome of one row's upsert: a conflict (a name or
// userid taken) refuses the row, any other error stops the import. It
// reports whether the row was written.
func (r *Result) record(sheet string, num int, ch models.Change, err error) (bool, error) {
	switch {
	case models.ErrorCode(err) == models.ECONFLICT:
		r.refuse(sheet, num, "%s", models.UserText(err))
		return false, nil
	case err != nil:
		return false, err
	}
	r.count(ch)
	return true, nil
}

func (r *Result) count(ch models.Change) {
	switch ch {
	case models.Created:
		r.Created++
	case models.Updated:
		r.Updated++
	default:
		r.Skipped++
	}
}

func (r *Result) refuse(sheet string, num int, format string, args ...any) {
	r.Errors = append(r.Errors, RowError{Sheet: sheet, Row: num, Reason: fmt.Sprintf(format, args...)})
	r.Skipped++
}

// roleWords maps what people write in the role column to a role.
var roleWords = map[string]models.Role{
	"leader": models.RoleLeader, "区领导": models.RoleLeader, "领导": models.RoleLeader,
	"head": models.RoleHead, "一把手": models.RoleHead, "主要负责人": models.RoleHead, "部门一把手": models.RoleHead, "负责人": models.RoleHead,
	"reporter": models.RoleReporter, "日报联络员": models.RoleReporter, "联络员": models.RoleReporter,
	"handler": models.RoleHandler, "经办人": models.RoleHandler,
	"supervisor": models.RoleSupervisor, "督导专班": models.RoleSupervisor, "督导": models.RoleSupervisor,
	"hotline": models.RoleHotline, "12345热线办": models.RoleHotline, "热线办": models.RoleHotline, "12345": models.RoleHotline,
	"admin": models.RoleAdmin, "管理员": models.RoleAdmin,
}

var (
	useridPattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,64}$`)
	mobilePattern = regexp.MustCompile(`^1\d{10}$`)
	kinds         = []models.Tier{models.TierDepartment, models.TierStreet, models.TierCommunity}
)

// Apply writes a parsed org file into the store: departments first (parents
// before children, whatever the file order), then members. A userid on
// several member rows (compared as WeCom does, without regard to case) lands
// from the first of them; the others are refused, naming it. The result's
// errors hold the file's unreadable rows and the refused ones, in file order.
//
// Groups come last (groups.go); robots lists the names of config
// wecom.robots that a group may name (nil: any name is taken).
func Apply(ctx context.Context, s *models.Store, f *File, robots []string) (Result, error) {
	var res Result
	for _, e := range f.Errors {
		res.refuse(e.Sheet, e.Row, "%s", e.Reason)
	}
	defer func() {
		slices.SortStableFunc(res.Errors, func(a, b RowError) int {
			return cmp.Or(cmp.Compare(sheetRank(a.Sheet), sheetRank(b.Sheet)), cmp.Compare(a.Row, b.Row))
		})
	}()
	existing, err := s.Departments(ctx)
	if err != nil {
		return res, err
	}
	byCode := map[string]*models.Department{}
	byName := map[string]*models.Department{} // by nameKey
	index := func(d *models.Department) {
		byCode[d.Code] = d
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			byName[nameKey(d.District, n)] = d
		}
	}
	for i := range existing {
		index(&existing[i])
	}
	pending := validDepartments(f.Departments, byName, &res)
	// Upsert in rounds so that a parent defined later in the file lands first.
	for len(pending) > 0 {
		var next []Row[Department]
		for _, row := range pending {
			d := row.Value
			var parentID *uint
			if d.Parent != "" {
				p := byCode[d.Parent]
				if p == nil {
					next = append(next, row)
					continue
				}
				parentID = &p.ID
			}
			dep := models.Department{
				Code: d.Code, Name: d.Name, District: d.District, Aliases: d.Aliases, Tier: models.Tier(d.Kind), ParentID: parentID,
				Domain: d.Domain, ReportRequired: d.ReportRequired, Sort: d.Sort,
			}
			ch, err := s.UpsertDepartment(ctx, &dep)
			written, err := res.record(row.Sheet, row.Num, ch, err)
			if err != nil {
				return res, err
			}
			if written {
				index(&dep)
			}
		}
		if len(next) == len(pending) { // no progress: these parents do not exist
			for _, row := range next {
				res.refuse(row.Sheet, row.Num, "上级部门 %s 不存在", row.Value.Parent)
			}
			break
		}
		pending = next
	}
	first := map[string]int{} // userid (UserIDKey) → the row that has it first
	for _, row := range f.Members {
		m, reason := member(row.Value, byCode, byName)
		key := models.UserIDKey(strings.TrimSpace(row.Value.UserID))
		if at, dup := first[key]; dup && key != "" {
			reason = fmt.Sprintf("账号 %s 与第 %d 行重复（企业微信账号不区分大小写）", strings.TrimSpace(row.Value.UserID), at)
		} else if key != "" {
			first[key] = row.Num
		}
		if reason != "" {
			res.refuse(row.Sheet, row.Num, "%s", reason)
			continue
		}
		ch, err := s.UpsertMember(ctx, m)
		if _, err = res.record(row.Sheet, row.Num, ch, err); err != nil {
			return res, err
		}
	}
	return res, applyGroups(ctx, s, f.Groups, byCode, byName, robots, &res)
}

// nameKey keys a department's name or alias within its district.
func nameKey(district, name string) string { return district + "\x00" + name }

// validDepartments checks each department row on its own and against the
// others: codes and names unique in the file, aliases not taken by another
// department. It returns the rows that may be written.
func validDepartments(rows []Row[Department], byName map[string]*models.Department, res *Result) []Row[Department] {
	var ok []Row[Department]
	codes := map[string]int{}
	names := map[string]string{}
	for _, row := range rows {
		d := &row.Value
		d.Code, d.Name, d.Parent = strings.TrimSpace(d.Code), strings.TrimSpace(d.Name), strings.TrimSpace(d.Parent)
		d.District = strings.TrimSpace(d.District)
		d.Aliases = cleanList(d.Aliases)
		if d.Kind = strings.TrimSpace(d.Kind); d.Kind == "" {
			d.Kind = string(models.TierDepartment)
		}
		var reason string
		switch {
		case d.Code == "":
			reason = "缺少部门编码"
		case d.Name == "":
			reason = "缺少部门名称"
		case codes[d.Code] > 0:
			reason = fmt.Sprintf("部门编码 %s 与第 %d 行重复", d.Code, codes[d.Code])
		case !slices.Contains(kinds, models.Tier(d.Kind)):
			reason = fmt.Sprintf("类型 %q 无效，应为 部门、镇街 或 社区", d.Kind)
		case d.Parent == d.Code:
			reason = "上级部门不能是本部门"
		}
		if reason == "" {
			for _, n := range append([]string{d.Name}, d.Aliases...) {
				if other, taken := names[nameKey(d.District, n)]; taken && other != d.Code {
					reason = fmt.Sprintf("名称或别名 %s 已被部门 %s 使用", n, other)
					break
				}
				if other := byName[nameKey(d.District, n)]; other != nil && other.Code != d.Code && !renamedInFile(other.Code, rows) {
					reason = fmt.Sprintf("名称或别名 %s 已被部门 %s 使用", n, other.Name)
					break
				}
			}
		}
		if reason != "" {
			res.refuse(row.Sheet, row.Num, "%s", reason)
			continue
		}
		codes[d.Code] = row.Num
		for _, n := range append([]string{d.Name}, d.Aliases...) {
			names[nameKey(d.District, n)] = d.Code
		}
		ok = append(ok, row)
	}
	return ok
}

// renamedInFile reports whether the file also carries the department with code,
// whose names then come from the file rather than from the store.
func renamedInFile(code string, rows []Row[Department]) bool {
	for _, r := range rows {
		if strings.TrimSpace(r.Value.Code) == code {
			return true
		}
	}
	return false
}

// member validates a member row and resolves its department.
func member(m Member, byCode, byName map[string]*models.Department) (*models.Member, string) {
	m.UserID, m.Name, m.Department = strings.TrimSpace(m.UserID), strings.TrimSpace(m.Name), strings.TrimSpace(m.Department)
	m.Mobile, m.District = strings.TrimSpace(m.Mobile), strings.TrimSpace(m.District)
	role, ok := roleWords[strings.ToLower(strings.TrimSpace(m.Role))]
	switch {
	case m.UserID == "":
		return nil, "缺少账号（企业微信 userid）"
	case !useridPattern.MatchString(m.UserID):
		return nil, fmt.Sprintf("账号 %q 格式不正确，只能含字母、数字和 _ . @ -", m.UserID)
	case m.Name == "":
		return nil, "缺少姓名"
	case !ok:
		return nil, fmt.Sprintf("角色 %q 无效，应为 leader、head、reporter、handler、supervisor、hotline 或 admin", m.Role)
	case m.Mobile != "" && !mobilePattern.MatchString(m.Mobile):
		return nil, fmt.Sprintf("手机号 %q 格式不正确", m.Mobile)
	}
	out := &models.Member{
		UserID: m.UserID, Name: m.Name, Aliases: cleanList(m.Aliases), Mobile: m.Mobile,
		Role: role, District: m.District, Main: m.Main, Active: true,
	}
	district := m.District // where names resolve: the member's, else their department's
	if m.Department != "" {
		d := byCode[m.Department]
		if d == nil {
			d = byName[nameKey(m.District, m.Department)]
		}
		if d == nil {
			return nil, fmt.Sprintf("部门 %s 不存在", m.Department)
		}
		if m.District != "" && d.District != m.District {
			return nil, fmt.Sprintf("部门 %s 不属于%s", d.Name, m.District)
		}
		out.DepartmentID, district = &d.ID, d.District
	} else if role == models.RoleHead || role == models.RoleReporter || role == models.RoleHandler {
		return nil, fmt.Sprintf("角色 %s 必须填写所属部门", role.Chinese())
	}
	for _, c := range cleanList(m.Covers) {
		d := byCode[c]
		if d == nil {
			d = byName[nameKey(district, c)]
		}
		if d == nil {
			return nil, fmt.Sprintf("兼报部门 %s 不存在", c)
		}
		out.Covers = append(out.Covers, d.Code)
	}
	return out, ""
}

// sheetRank orders the sheets of an xlsx org file; YAML rows share one line numbering.
func sheetRank(sheet string) int {
	switch sheet {
	case SheetDepartments:
		return 1
	case SheetMembers:
		return 2
	case SheetGroups:
		return 3
	}
	return 0
}

func cleanList(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
