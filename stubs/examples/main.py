# A board's main.py using the tinycil API: type-checked against stubs/tinycil, so the
# stubs stay in step with how the README tells users to call the package.
import tinycil
from array import array

learner = tinycil.load()
samples = [array("f", [0.0] * learner.n_inputs) for _ in range(5)]
report = learner.learn_class("clap", samples, verbose=False)
label: str = learner.predict(samples[0])
probabilities = learner.scores(samples[0])
print(label, report["accuracy"], max(probabilities), learner.info()["hidden"], learner.classes)
