package templatecheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Package is one Go package of this module: its import path, directory and the non-test Go
// files that the build selects.
type Package struct {
	ImportPath string
	Dir        string
	GoFiles    []string
}

// ModulePackages lists pattern (e.g. "./functions/router") and every package it depends on that
// belongs to the main module of moduleRoot, as `go list -deps` sees them for env (e.g.
// GOOS=linux GOARCH=arm64) with the given build tags.
func ModulePackages(moduleRoot, pattern string, env []string, tags string) ([]Package, error) {
	args := []string{"list", "-deps", "-json=ImportPath,Dir,GoFiles,Module,Standard"}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pattern)
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps %s: %w: %s", pattern, err, strings.TrimSpace(stderr.String()))
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	var pkgs []Package
	for {
		var p struct {
			ImportPath string
			Dir        string
			GoFiles    []string
			Standard   bool
			Module     *struct{ Main bool }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decode go list output: %w", err)
		}
		if p.Standard || p.Module == nil || !p.Module.Main {
			continue
		}
		pkgs = append(pkgs, Package{ImportPath: p.ImportPath, Dir: p.Dir, GoFiles: p.GoFiles})
	}
	return pkgs, nil
}

// EnvRead is one place where code reads an environment variable.
type EnvRead struct {
	// Name is the variable's name.
	Name string
	// Pos is where the name is given: the os.Getenv/os.LookupEnv call, or the call of a
	// function that passes its argument on to one.
	Pos token.Position
}

// EnvReads finds the environment variables read by the given packages: calls of os.Getenv and
// os.LookupEnv whose argument is a string literal or a constant (of the same or another of
// pkgs) with a literal value, and calls of functions in pkgs that pass one of their parameters
// on to such a call (a `mustEnv(key string)` helper, also through several levels). An
// argument that cannot be resolved to a name is an error naming its position, so that no read
// goes unchecked.
func EnvReads(pkgs []Package) ([]EnvRead, error) {
	s := &envScanner{
		fset:    token.NewFileSet(),
		pkgs:    map[string]*scanPkg{},
		readers: map[funcKey]int{},
	}
	for _, p := range pkgs {
		if err := s.load(p); err != nil {
			return nil, err
		}
	}
	for _, p := range s.pkgs {
		p.collectConsts()
	}
	s.findReaders()
	return s.reads()
}

type scanPkg struct {
	path   string
	name   string
	files  []*ast.File
	consts map[string]ast.Expr // package-level constant -> its value expression
	values map[string]string   // resolved string constants
	funcs  map[string]*ast.FuncDecl
}

// funcKey names a package-level function.
type funcKey struct{ pkg, name string }

type envScanner struct {
	fset *token.FileSet
	pkgs map[string]*scanPkg
	// readers maps a function to the index of the parameter it passes on as a variable name.
	readers map[funcKey]int
}

func (s *envScanner) load(p Package) error {
	sp := &scanPkg{path: p.ImportPath, consts: map[string]ast.Expr{}, values: map[string]string{}, funcs: map[string]*ast.FuncDecl{}}
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(s.fset, filepath.Join(p.Dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", name, err)
		}
		sp.name = f.Name.Name
		sp.files = append(sp.files, f)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				sp.funcs[fd.Name.Name] = fd
			}
		}
	}
	s.pkgs[p.ImportPath] = sp
	return nil
}

// collectConsts records the constants of the package (package-level ones, and those declared
// inside functions unless a package-level one has the same name) and resolves those whose value
// is a string literal or another such constant.
func (p *scanPkg) collectConsts() {
	add := func(gd *ast.GenDecl, override bool) {
		if gd.Tok != token.CONST {
			return
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				if _, exists := p.consts[n.Name]; override || !exists {
					p.consts[n.Name] = vs.Values[i]
				}
			}
		}
	}
	for _, f := range p.files {
		for _, d := range f.Decls {
			if gd, ok := d.(*ast.GenDecl); ok {
				add(gd, true)
			}
		}
	}
	for _, f := range p.files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					if ds, ok := n.(*ast.DeclStmt); ok {
						if gd, ok := ds.Decl.(*ast.GenDecl); ok {
							add(gd, false)
						}
					}
					return true
				})
			}
		}
	}
	for name := range p.consts {
		if v, ok := p.constValue(name, 0); ok {
			p.values[name] = v
		}
	}
}

func (p *scanPkg) constValue(name string, depth int) (string, bool) {
	e, ok := p.consts[name]
	if !ok || depth > 16 {
		return "", false
	}
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			v, err := strconv.Unquote(x.Value)
			return v, err == nil
		}
	case *ast.Ident:
		return p.constValue(x.Name, depth+1)
	}
	return "", false
}

// imports maps a file's local import names to import paths.
func (s *envScanner) imports(f *ast.File) map[string]string {
	out := map[string]string{}
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		name := ""
		if im.Name != nil {
			name = im.Name.Name
		} else if p, ok := s.pkgs[path]; ok {
			name = p.name
		} else {
			name = path[strings.LastIndex(path, "/")+1:]
		}
		out[name] = path
	}
	return out
}

// callee identifies the function a call expression calls: os.Getenv/os.LookupEnv as
// {"os", "Getenv"}, a package-level function of pkgs as {import path, name}.
func (s *envScanner) callee(p *scanPkg, imports map[string]string, call *ast.CallExpr) (funcKey, bool) {
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		if _, ok := p.funcs[fn.Name]; ok {
			return funcKey{p.path, fn.Name}, true
		}
	case *ast.SelectorExpr:
		if x, ok := fn.X.(*ast.Ident); ok {
			if path, ok := imports[x.Name]; ok {
				return funcKey{path, fn.Sel.Name}, true
			}
		}
	}
	return funcKey{}, false
}

// argIndex reports which argument of a call of k names an environment variable.
func (s *envScanner) argIndex(k funcKey) (int, bool) {
	if k.pkg == "os" && (k.name == "Getenv" || k.name == "LookupEnv") {
		return 0, true
	}
	i, ok := s.readers[k]
	return i, ok
}

// findReaders marks, until nothing changes, the functions that pass one of their parameters as
// the name argument of a call of os.Getenv, os.LookupEnv or an already marked function.
func (s *envScanner) findReaders() {
	for changed := true; changed; {
		changed = false
		for _, p := range s.pkgs {
			for _, f := range p.files {
				imports := s.imports(f)
				for _, d := range f.Decls {
					fd, ok := d.(*ast.FuncDecl)
					if !ok || fd.Recv != nil || fd.Body == nil {
						continue
					}
					k := funcKey{p.path, fd.Name.Name}
					if _, done := s.readers[k]; done {
						continue
					}
					params := paramIndex(fd)
					ast.Inspect(fd.Body, func(n ast.Node) bool {
						call, ok := n.(*ast.CallExpr)
						if !ok {
							return true
						}
						ck, ok := s.callee(p, imports, call)
						if !ok {
							return true
						}
						ai, ok := s.argIndex(ck)
						if !ok || ai >= len(call.Args) {
							return true
						}
						if id, ok := call.Args[ai].(*ast.Ident); ok {
							if pi, ok := params[id.Name]; ok {
								if _, done := s.readers[k]; !done {
									s.readers[k] = pi
									changed = true
								}
							}
						}
						return true
					})
				}
			}
		}
	}
}

// paramIndex maps a function's parameter names to their positions.
func paramIndex(fd *ast.FuncDecl) map[string]int {
	out := map[string]int{}
	i := 0
	for _, field := range fd.Type.Params.List {
		if len(field.Names) == 0 {
			i++
			continue
		}
		for _, n := range field.Names {
			out[n.Name] = i
			i++
		}
	}
	return out
}

// reads resolves the name argument of every call of an env reader. An argument that is a
// parameter of a marked reader is the reader's own forwarding, resolved at its call sites.
func (s *envScanner) reads() ([]EnvRead, error) {
	var out []EnvRead
	var unresolved []string
	for _, p := range s.pkgs {
		for _, f := range p.files {
			imports := s.imports(f)
			for _, d := range f.Decls {
				// forwarded holds the parameters of a reader function: its own forwarding
				// call is resolved at the reader's call sites instead.
				var forwarded map[string]int
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
					if _, isReader := s.readers[funcKey{p.path, fd.Name.Name}]; isReader {
						forwarded = paramIndex(fd)
					}
				}
				ast.Inspect(d, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					ck, ok := s.callee(p, imports, call)
					if !ok {
						return true
					}
					ai, ok := s.argIndex(ck)
					if !ok || ai >= len(call.Args) {
						return true
					}
					arg := call.Args[ai]
					pos := s.fset.Position(arg.Pos())
					if id, ok := arg.(*ast.Ident); ok {
						if _, fwd := forwarded[id.Name]; fwd {
							return true
						}
					}
					if name, ok := s.resolve(p, imports, arg); ok {
						out = append(out, EnvRead{Name: name, Pos: pos})
					} else {
						unresolved = append(unresolved, fmt.Sprintf("%s: cannot tell which variable %s.%s reads (give it a string literal or constant)", pos, ck.pkg, ck.name))
					}
					return true
				})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Pos.String() < out[j].Pos.String()
	})
	if len(unresolved) > 0 {
		sort.Strings(unresolved)
		return out, errors.New(strings.Join(unresolved, "\n"))
	}
	return out, nil
}

// resolve returns the string value of a name argument: a literal, a constant of p, or pkg.Const
// of another scanned package.
func (s *envScanner) resolve(p *scanPkg, imports map[string]string, e ast.Expr) (string, bool) {
	switch x := e.(type) {
	case *ast.BasicLit:
		if x.Kind == token.STRING {
			v, err := strconv.Unquote(x.Value)
			return v, err == nil
		}
	case *ast.Ident:
		v, ok := p.values[x.Name]
		return v, ok
	case *ast.SelectorExpr:
		if id, ok := x.X.(*ast.Ident); ok {
			if other, ok := s.pkgs[imports[id.Name]]; ok {
				v, ok := other.values[x.Sel.Name]
				return v, ok
			}
		}
	case *ast.ParenExpr:
		return s.resolve(p, imports, x.X)
	}
	return "", false
}
