# Runs a REPL session from a file, as the REPL would show it: each line is echoed after
# ">>> ", an expression's value is printed with repr, a statement runs silently, and an
# exception prints its last line (the REPL's traceback frames name host paths, left out).
#   micropython repl_session.py COMMANDS_FILE
import sys

scope = {}
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    print(">>> " + line)
    try:
        try:
            code = compile(line, "<stdin>", "eval")
        except SyntaxError:
            exec(line, scope)
        else:
            value = eval(code, scope)
            if value is not None:
                print(repr(value))
    except Exception as e:
        print("Traceback (most recent call last):")
        print("  ...")
        print("%s: %s" % (type(e).__name__, e))
