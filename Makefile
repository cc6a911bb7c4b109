# The two commands a newcomer needs: `make run` starts the bot, `make test` runs the tests. Both
# call ./newsdesk, which works without make too, and creates .venv and installs the project into
# it on first use.

.PHONY: run test check clean

run:
	./newsdesk run

test:
	./newsdesk test

check:
	./newsdesk check

clean:
	rm -rf .venv build *.egg-info
