"""`tinycil bench`: the paper's class-incremental protocol on the shared data sets, with baselines.

Protocol (per data set and class order): the first two classes of a seeded order are the
base classes, prepared on the host (`prepare.prepare_learner`: input scaling, front-end,
size search, distilled replay); then every further class arrives once, as on the board,
with `--new-per-class` real samples (one `learn_class` call). After the base and after every
step each method is scored on the test split of the classes seen so far.

Every method stores the same bytes (`--memory-percent` of the training set, see
`budget.budget_bytes`) and trains with the same hyperparameters (lr, epochs chosen on a
validation split carved from the training data, never on the test split).

Modules, each importing only those above it (the product core never imports this package):

    settings   constants: data sets, methods, grids, a board's limits; BenchError
    methods    the compared methods: reference-learner variants, kNN, NCM, naive, joint
    budget     replay bytes, RAM of the buffers, the widest width that fits, deploy info
    protocol   split and class orders, the prepared base, one method's run, aggregation
    select     choices on the validation split (hyperparameters, front-end, growth rule, k)
    runs       each data set's runs on test; the jointly chosen growth rules on test
    headline   the headline rows and claims over the data sets
    device     the same run by the device code under MicroPython
    report     report.md, plots, results.json
    cli        the command's options, settings and run
"""
