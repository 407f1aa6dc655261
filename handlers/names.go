package handlers

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"yanzhen/models"
)

// target is an addressee of a dispatch: a department or a member.
type target struct {
	dept   *models.Department
	member *models.Member
}

// same reports whether t and o address the same department or member.
func (t target) same(o target) bool {
	return (t.dept != nil && o.dept != nil && t.dept.ID == o.dept.ID) ||
		(t.member != nil && o.member != nil && t.member.ID == o.member.ID)
}

// nameIndex finds department and member names in text: exact names and
// aliases, and the longest name at a position of a text.
type nameIndex struct {
	dir *models.Directory
	// deptNames holds every department name and alias, longest first;
	// fullNames only the names; allNames member names and aliases too.
	deptNames, fullNames, allNames []string
}

func newNameIndex(dir *models.Directory) *nameIndex {
	x := &nameIndex{dir: dir}
	for _, d := range dir.Departments {
		x.fullNames = append(x.fullNames, d.Name)
		x.deptNames = append(x.deptNames, d.Name)
		x.deptNames = append(x.deptNames, d.Aliases...)
	}
	x.allNames = append(x.allNames, x.deptNames...)
	for _, m := range dir.Members {
		x.allNames = append(x.allNames, m.Name)
		x.allNames = append(x.allNames, m.Aliases...)
	}
	for _, l := range [][]string{x.deptNames, x.fullNames, x.allNames} {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i]) > len(l[j]) })
	}
	return x
}

// longestAt returns the longest of names that text[i:] starts with, or "".
func longestAt(names []string, text string, i int) string {
	for _, n := range names {
		if n != "" && strings.HasPrefix(text[i:], n) {
			return n
		}
	}
	return ""
}

// candidates returns every department and member a name may mean: by name or
// alias, else (for members) by userid.
func (x *nameIndex) candidates(name string) []target {
	var out []target
	for _, d := range x.dir.FindDepartments(name) {
		out = append(out, target{dept: d})
	}
	for _, m := range x.dir.FindMembers(name) {
		out = append(out, target{member: m})
	}
	if len(out) == 0 {
		if m := x.dir.MemberByUserID(name); m != nil {
			out = append(out, target{member: m})
		}
	}
	return out
}

// mention resolves the @-mention token (the text after @ up to a blank or a
// punctuation mark): the whole token when it is a name or userid, else the
// longest name it starts with. It returns the length of the token used and
// its candidates; none when nothing matches.
func (x *nameIndex) mention(token string) (int, []target) {
	if c := x.candidates(token); len(c) > 0 {
		return len(token), c
	}
	if n := longestAt(x.allNames, token, 0); n != "" {
		return len(n), x.candidates(n)
	}
	return 0, nil
}

// mentionToken returns the end of the @-mention token starting at text[i:].
func mentionToken(text string, i int) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '@' || isSep(r) || unicode.IsPunct(r) && r != '-' && r != '_' && r != '.' {
			break
		}
		i += size
	}
	return i
}

// ambiguity describes the candidates of a name that means several, so the
// sender can pick: 住建局（部门）、@zhangwei（张伟，城管局）.
func ambiguity(dir *models.Directory, name string, cands []target) error {
	list := make([]string, len(cands))
	for i, c := range cands {
		switch {
		case c.dept != nil:
			list[i] = c.dept.Name + "（部门）"
		case departmentName(dir, c.member) != "":
			list[i] = "@" + c.member.UserID + "（" + c.member.Name + "，" + departmentName(dir, c.member) + "）"
		default:
			list[i] = "@" + c.member.UserID + "（" + c.member.Name + "）"
		}
	}
	return models.Errorf(models.EINVALID, "“%s”对应多个对象，请指明：%s", name, strings.Join(list, "、"))
}

// departmentName returns the name of a member's department, or "".
func departmentName(dir *models.Directory, m *models.Member) string {
	if m.DepartmentID != nil {
		if d := dir.Department(*m.DepartmentID); d != nil {
			return d.Name
		}
	}
	return ""
}
