package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// Change says what an upsert did.
type Change int

// The outcomes of an upsert.
const (
	Unchanged Change = iota
	Created
	Updated
)

// UpsertDepartment inserts d, or updates the department with d's Code. On
// return d.ID is set. Unchanged rows are not written.
func (s *Store) UpsertDepartment(ctx context.Context, d *Department) (Change, error) {
	var old Department
	err := s.db.WithContext(ctx).Where("code = ?", d.Code).Take(&old).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		if err := s.db.WithContext(ctx).Create(d).Error; err != nil {
			return Unchanged, dbError(err, "部门名称或编码重复："+d.Name)
		}
		return Created, nil
	case err != nil:
		return Unchanged, fmt.Errorf("models: find department %s: %w", d.Code, err)
	}
	d.ID, d.CreatedAt = old.ID, old.CreatedAt
	if old.Name == d.Name && old.District == d.District && slices.Equal(old.Aliases, d.Aliases) && old.Tier == d.Tier &&
		equalID(old.ParentID, d.ParentID) && old.Domain == d.Domain &&
		old.ReportRequired == d.ReportRequired && old.Sort == d.Sort {
		return Unchanged, nil
	}
	err = s.db.WithContext(ctx).Model(&Department{ID: old.ID}).Select(
		"name", "district", "aliases", "kind", "parent_id", "domain", "report_required", "sort", "updated_at",
	).Updates(d).Error
	if err != nil {
		return Unchanged, dbError(err, "部门名称重复："+d.Name)
	}
	return Updated, nil
}

// UserIDKey is the form in which userids are compared: WeCom userids do not
// differ by case, so DupUser and dupuser are one member.
func UserIDKey(userid string) string { return strings.ToLower(userid) }

// whereUserID is the condition that a member's userid is the argument, as
// UserIDKey compares them: MySQL's _ci collation ignores case itself; SQLite
// is told to, and its index idx_<members>_userid_nocase serves the lookup.
func (s *Store) whereUserID() string {
	if s.driver == DriverSQLite {
		return "userid = ? COLLATE NOCASE"
	}
	return "userid = ?"
}

// UpsertMember inserts m, or updates the member whose UserID is m's but for
// case (taking m's spelling). On return m.ID is set.
func (s *Store) UpsertMember(ctx context.Context, m *Member) (Change, error) {
	var old Member
	err := s.db.WithContext(ctx).Where(s.whereUserID(), m.UserID).Take(&old).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		if err := s.db.WithContext(ctx).Create(m).Error; err != nil {
			return Unchanged, dbError(err, "成员账号重复："+m.UserID)
		}
		return Created, nil
	case err != nil:
		return Unchanged, fmt.Errorf("models: find member %s: %w", m.UserID, err)
	}
	m.ID, m.CreatedAt = old.ID, old.CreatedAt
	if old.UserID == m.UserID && old.Name == m.Name && slices.Equal(old.Aliases, m.Aliases) && old.Mobile == m.Mobile &&
		equalID(old.DepartmentID, m.DepartmentID) && old.Role == m.Role && old.Main == m.Main && old.District == m.District &&
		slices.Equal(old.Covers, m.Covers) && old.Active == m.Active {
		return Unchanged, nil
	}
	err = s.db.WithContext(ctx).Model(&Member{ID: old.ID}).Select(
		"userid", "name", "aliases", "mobile", "department_id", "role", "district", "main", "covers", "active", "updated_at",
	).Updates(m).Error
	if err != nil {
		return Unchanged, fmt.Errorf("models: update member %s: %w", m.UserID, err)
	}
	return Updated, nil
}

func equalID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// dbError turns a unique-key violation into a conflict with the given user text
// and wraps anything else.
func dbError(err error, conflict string) error {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return &Error{Code: ECONFLICT, Message: conflict}
	}
	return fmt.Errorf("models: %w", err)
}

// Departments returns every department in the configured order (Sort, then ID).
func (s *Store) Departments(ctx context.Context) ([]Department, error) {
	var out []Department
	if err := s.db.WithContext(ctx).Order("sort, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list departments: %w", err)
	}
	return out, nil
}

// Members returns every active member, by ID.
func (s *Store) Members(ctx context.Context) ([]Member, error) {
	var out []Member
	if err := s.db.WithContext(ctx).Where("active = ?", true).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("models: list members: %w", err)
	}
	return out, nil
}

// AdminIDs returns the userids of the active administrators (role admin),
// in ID order: whoever must hear of a failure of the system.
func (s *Store) AdminIDs(ctx context.Context) ([]string, error) {
	var out []string
	err := s.db.WithContext(ctx).Model(&Member{}).Where("active = ? AND role = ?", true, RoleAdmin).Order("id").Pluck("userid", &out).Error
	if err != nil {
		return nil, fmt.Errorf("models: list administrators: %w", err)
	}
	return out, nil
}

// MemberByUserID returns the active member with a WeCom userid (compared
// without regard to case, see UserIDKey), or ENOTFOUND.
func (s *Store) MemberByUserID(ctx context.Context, userid string) (*Member, error) {
	var m Member
	err := s.db.WithContext(ctx).Preload("Department").
		Where(s.whereUserID(), userid).Where("active = ?", true).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, Errorf(ENOTFOUND, "您尚未登记，请联系管理员")
	}
	if err != nil {
		return nil, fmt.Errorf("models: find member: %w", err)
	}
	return &m, nil
}

// Directory is a snapshot of the organisation for resolving the names people
// type: department names and aliases, member names and aliases. Lookups are exact
// after trimming; several matches mean the name is ambiguous.
type Directory struct {
	Departments []Department // in the configured order
	Members     []Member

	deptByID     map[uint]*Department
	deptByName   map[string][]*Department
	memberByID   map[uint]*Member
	memberByUID  map[string]*Member
	memberByName map[string][]*Member
	// memberByDept lists, per department, its members and those who cover
	// it by code, each once, in the order of Members.
	memberByDept map[uint][]*Member
}

// Directory loads the organisation into memory.
func (s *Store) Directory(ctx context.Context) (*Directory, error) {
	depts, err := s.Departments(ctx)
	if err != nil {
		return nil, err
	}
	members, err := s.Members(ctx)
	if err != nil {
		return nil, err
	}
	return NewDirectory(depts, members), nil
}

// NewDirectory indexes departments and members.
func NewDirectory(depts []Department, members []Member) *Directory {
	d := &Directory{
		Departments: depts, Members: members,
		deptByID: map[uint]*Department{}, deptByName: map[string][]*Department{},
		memberByID: map[uint]*Member{}, memberByUID: map[string]*Member{}, memberByName: map[string][]*Member{},
		memberByDept: map[uint][]*Member{},
	}
	for i := range d.Departments {
		dep := &d.Departments[i]
		d.deptByID[dep.ID] = dep
		for _, n := range uniqueNames(dep.Name, dep.Aliases) {
			d.deptByName[n] = append(d.deptByName[n], dep)
		}
	}
	byCode := make(map[string]uint, len(d.Departments))
	for _, dep := range d.Departments {
		byCode[dep.Code] = dep.ID
	}
	for i := range d.Members {
		m := &d.Members[i]
		var in []uint
		if m.DepartmentID != nil {
			in = append(in, *m.DepartmentID)
		}
		for _, code := range m.Covers {
			if id, ok := byCode[code]; ok && !slices.Contains(in, id) {
				in = append(in, id)
			}
		}
		for _, id := range in {
			d.memberByDept[id] = append(d.memberByDept[id], m)
		}
		d.memberByID[m.ID] = m
		d.memberByUID[UserIDKey(m.UserID)] = m
		for _, n := range uniqueNames(m.Name, m.Aliases) {
			d.memberByName[n] = append(d.memberByName[n], m)
		}
	}
	return d
}

func uniqueNames(name string, aliases []string) []string {
	out := []string{strings.TrimSpace(name)}
	for _, a := range aliases {
		if a = strings.TrimSpace(a); a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Department returns the department with an ID, or nil.
func (d *Directory) Department(id uint) *Department { return d.deptByID[id] }

// Member returns the member with an ID, or nil.
func (d *Directory) Member(id uint) *Member { return d.memberByID[id] }

// MemberByUserID returns the member with a WeCom userid (compared without
// regard to case, see UserIDKey), or nil.
func (d *Directory) MemberByUserID(userid string) *Member { return d.memberByUID[UserIDKey(userid)] }

// FindDepartments returns the departments whose name or alias is name.
func (d *Directory) FindDepartments(name string) []*Department {
	return d.deptByName[strings.TrimSpace(name)]
}

// FindDepartmentsIn is FindDepartments for a name that may carry the
// district's name or 区 in front, as hotline exports write them: when no
// department has the name itself, it returns those that have it without the
// prefix (高新区教育局 and 区教育局 find 教育局 in 高新区). Several departments
// mean the name is ambiguous.
func (d *Directory) FindDepartmentsIn(district, name string) []*Department {
	name = strings.TrimSpace(name)
	if found := d.deptByName[name]; len(found) > 0 {
		return found
	}
	for _, prefix := range []string{strings.TrimSpace(district), "区"} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && prefix != "" && rest != "" {
			if found := d.deptByName[rest]; len(found) > 0 {
				return found
			}
		}
	}
	return nil
}

// FindMembers returns the members whose name or alias is name.
func (d *Directory) FindMembers(name string) []*Member {
	return d.memberByName[strings.TrimSpace(name)]
}

// MembersOf returns the members of a department with one of the roles, in ID order.
// A reporter who covers the department by code counts as its member.
func (d *Directory) MembersOf(deptID uint, roles ...Role) []*Member {
	var out []*Member
	for _, m := range d.memberByDept[deptID] {
		if slices.Contains(roles, m.Role) {
			out = append(out, m)
		}
	}
	return out
}

// WithRole returns the members with a role, in ID order.
func (d *Directory) WithRole(role Role) []*Member {
	var out []*Member
	for i := range d.Members {
		if d.Members[i].Role == role {
			out = append(out, &d.Members[i])
		}
	}
	return out
}

// ReportingFor returns who reports for a department: its heads, then its
// reporters (日报联络员), those who cover it included. The reminder before the
// report time tells them all.
func (d *Directory) ReportingFor(deptID uint) []*Member {
	return append(d.MembersOf(deptID, RoleHead), d.MembersOf(deptID, RoleReporter)...)
}

// Responsible returns who answers for a department: its heads, or when it has
// none, its reporters. Reminders and alerts @-mention them.
func (d *Directory) Responsible(deptID uint) []*Member {
	if heads := d.MembersOf(deptID, RoleHead); len(heads) > 0 {
		return heads
	}
	return d.MembersOf(deptID, RoleReporter)
}
