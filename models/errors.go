package models

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// Code classifies an application error for programs: what went wrong, not
// the words for it.
type Code string

// Application error codes. Every error a user may see carries one.
const (
	ENOTFOUND  Code = "not_found"
	EINVALID   Code = "invalid"
	ECONFLICT  Code = "conflict"
	EFORBIDDEN Code = "forbidden"
	EINTERNAL  Code = "internal"
)

// Error is an application error: a code for programs and a message for people.
// The message is Chinese, short and official, and safe to show to the sender.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an application error with a formatted user message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the application error in err's chain,
// ENOTFOUND or ECONFLICT for the matching gorm errors, and EINTERNAL otherwise.
func ErrorCode(err error) Code {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ENOTFOUND
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ECONFLICT
	}
	return EINTERNAL
}

// defaultText is the user text of a code whose error carries no message of its own.
var defaultText = map[Code]string{
	ENOTFOUND:  "未找到相关记录",
	EINVALID:   "输入有误，请检查后重试",
	ECONFLICT:  "记录已存在或已被他人修改，请刷新后重试",
	EFORBIDDEN: "您无权执行此操作",
	EINTERNAL:  "系统繁忙，请稍后再试",
}

// UserText turns any error into the Chinese text shown to a user. It is the one
// place where errors become words: application errors show their message, all
// others (database, network) a generic line that reveals nothing internal.
func UserText(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return defaultText[ErrorCode(err)]
}
