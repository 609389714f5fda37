package mtail

// typeOf is the static type of an expression once the checker resolved
// names. It follows mtail's lattice: Int < Float < String, and '+' with a
// String operand concatenates.
func typeOf(x expr) Type {
	switch x := x.(type) {
	case *intLit:
		return Int
	case *floatLit:
		return Float
	case *strLit:
		return String
	case *capRef:
		return x.typ
	case *indexExpr:
		if x.m.Kind == Histogram {
			return Float // read as its sum
		}
		return x.m.Type
	case *patternExpr, *matchExpr:
		return tyBool
	case *callExpr:
		switch x.fn {
		case "strptime", "settime":
			return tyNone
		case "timestamp", "len", "strtol", "int":
			return Int
		case "float":
			return Float
		case "bool":
			return tyBool
		}
		return String
	case *unaryExpr:
		if x.op == "~" {
			return Int
		}
		return typeOf(x.x)
	case *binaryExpr:
		return binaryType(x)
	}
	return tyNone
}

func binaryType(x *binaryExpr) Type {
	switch x.op {
	case "&&", "||", "<", "<=", ">", ">=", "==", "!=":
		return tyBool
	case "&", "|", "^", "<<", ">>":
		return Int
	case "=", "+=", "-=", "*=", "/=", "%=":
		return typeOf(x.l)
	}
	l, r := numeric(typeOf(x.l)), numeric(typeOf(x.r))
	if x.op == "+" && (typeOf(x.l) == String || typeOf(x.r) == String) {
		return String
	}
	if l == Float || r == Float {
		return Float
	}
	return Int
}

// numeric is the type a value takes in arithmetic: strings are parsed as
// Int (a runtime error when they do not parse), bools are 0 or 1.
func numeric(t Type) Type {
	if t == Float {
		return Float
	}
	return Int
}

// inferMetricTypes makes a counter, gauge or timer Float when a Float
// flows into it, repeating until nothing changes (a metric may be assigned
// from another).
func inferMetricTypes(as []assignment) {
	for changed, n := true, 0; changed && n < 20; n++ {
		changed = false
		for _, a := range as {
			if a.m.Kind == Text || a.m.Kind == Histogram || a.m.Type == Float {
				continue
			}
			if t := typeOf(a.x.(*binaryExpr).r); t == Float {
				a.m.Type = Float
				changed = true
			}
		}
	}
}
