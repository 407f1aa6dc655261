package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"yanzhen/models"
	"yanzhen/orgimport"
)

// importOrgFile reads an org file (YAML, or xlsx with sheets 部门 and 人员) and
// applies it. Row errors from parsing and from applying are both in the result.
func importOrgFile(ctx context.Context, s *models.Store, path string) (orgimport.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return orgimport.Result{}, fmt.Errorf("打开组织架构文件：%w", err)
	}
	defer f.Close()
	var file *orgimport.File
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		file, err = orgimport.ParseYAML(f)
	case ".xlsx":
		file, err = orgimport.ParseXLSX(f)
	default:
		return orgimport.Result{}, fmt.Errorf("不支持的组织架构文件格式 %s：请使用 .yaml 或 .xlsx", path)
	}
	if err != nil {
		return orgimport.Result{}, err
	}
	return orgimport.Apply(ctx, s, file)
}
