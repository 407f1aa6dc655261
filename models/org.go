package models

import "time"

// Tier is the kind of unit a Department is, by the level of government it
// belongs to: a district-level department, a town or street, a community.
type Tier string

// Department tiers.
const (
	TierDepartment Tier = "部门" // a district-level department (区级热线承办部门)
	TierStreet     Tier = "镇街" // a town or street
	TierCommunity  Tier = "社区" // a community under a street
	// TierDistrict is the district itself, the level above its streets and
	// departments: what a street's ticket is raised to (提级). No
	// department has it.
	TierDistrict Tier = "区"
)

// Above returns the level a unit of tier t answers to: a community's street,
// a street's or a department's district; "" for the district itself.
func (t Tier) Above() Tier {
	switch t {
	case TierCommunity:
		return TierStreet
	case TierDistrict:
		return ""
	}
	return TierDistrict
}

// Heading names the tier in report headings and rankings: 区级部门 for
// departments (and for no tier), the tier itself (镇街, 社区) for the others.
func (t Tier) Heading() string {
	if t == TierDepartment || t == "" {
		return "区级部门"
	}
	return string(t)
}

// Department is a unit of the district: a department, a town or street, or a
// community. Code is the stable key of imports; Name and Aliases are what people
// type in chat and what hotline exports name. District is the district the
// unit belongs to in a city's installation ("" for the configured district):
// names are unique within a district.
type Department struct {
	ID             uint        `gorm:"primaryKey" json:"id"`
	Code           string      `gorm:"size:64;not null;uniqueIndex" json:"code"`
	District       string      `gorm:"size:64;not null;default:'';uniqueIndex:idx_departments_district_name,priority:1" json:"district,omitempty"`
	Name           string      `gorm:"size:128;not null;uniqueIndex:idx_departments_district_name,priority:2" json:"name"`
	Aliases        StringList  `json:"aliases"`
	Tier           Tier        `gorm:"column:kind;size:16;not null;default:部门" json:"kind"`
	ParentID       *uint       `gorm:"index" json:"parent_id,omitempty"`
	Parent         *Department `json:"-"`
	Domain         string      `gorm:"size:64" json:"domain,omitempty"`
	ReportRequired bool        `gorm:"not null;default:false" json:"report_required"`
	Sort           int         `gorm:"not null;default:0;index" json:"sort"`
	CreatedAt      time.Time   `json:"-"`
	UpdatedAt      time.Time   `json:"-"`
}

// Role is what a member may do.
type Role string

// The roles of DESIGN §4.
const (
	RoleLeader     Role = "leader"     // 区领导: dispatches, closes, approves
	RoleHead       Role = "head"       // 部门一把手: reports for and answers for a department
	RoleReporter   Role = "reporter"   // 日报联络员: reports for one or several departments
	RoleHandler    Role = "handler"    // 经办人: works tickets, asks for returns
	RoleSupervisor Role = "supervisor" // 督导专班: watches everything, 督办 tickets
	RoleHotline    Role = "hotline"    // 12345热线办: owns the tickets, hears the 退办/延期 decisions
	RoleAdmin      Role = "admin"      // 管理员: runs the system, hears of failures
)

// Roles lists every valid role.
var Roles = []Role{RoleLeader, RoleHead, RoleReporter, RoleHandler, RoleSupervisor, RoleHotline, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Chinese is the role's name as users know it.
func (r Role) Chinese() string {
	switch r {
	case RoleLeader:
		return "区领导"
	case RoleHead:
		return "部门主要负责人"
	case RoleReporter:
		return "日报联络员"
	case RoleHandler:
		return "经办人"
	case RoleSupervisor:
		return "督导专班"
	case RoleHotline:
		return "12345热线办"
	case RoleAdmin:
		return "管理员"
	}
	return string(r)
}

// Member is a person in the group, keyed by WeCom userid. Covers lists the codes
// of further departments a reporter may report for besides its own.
type Member struct {
	ID           uint        `gorm:"primaryKey" json:"id"`
	UserID       string      `gorm:"column:userid;size:64;not null;uniqueIndex" json:"userid"`
	Name         string      `gorm:"size:64;not null;index" json:"name"`
	Aliases      StringList  `json:"aliases,omitempty"`
	Mobile       string      `gorm:"size:20" json:"mobile,omitempty"`
	DepartmentID *uint       `gorm:"index" json:"department_id,omitempty"`
	Department   *Department `json:"-"`
	Role         Role        `gorm:"size:16;not null;index" json:"role"`
	// District is the district of a member without a department (a leader,
	// the supervision team); "" takes the department's, or the configured one.
	District string `gorm:"size:64;not null;default:''" json:"district,omitempty"`
	// Main marks the main leader (主要领导) who receives the weekly report.
	Main      bool       `gorm:"not null;default:false" json:"main,omitempty"`
	Covers    StringList `json:"covers,omitempty"`
	Active    bool       `gorm:"not null" json:"active"`
	CreatedAt time.Time  `json:"-"`
	UpdatedAt time.Time  `json:"-"`
}
