"""The headline over the data sets (results.json's "headline"): ours against fixed and the
baselines at the main memory size, and whether each claim is met."""
import numpy as np

from .select import joint_choice, narrowest_widths


def headline(results, st):
    key = str(st["memory_percent"])
    rows = []
    for name, d in results["datasets"].items():
        runs = d["runs"][key]
        s = {m: runs[m]["summary"] for m in runs}
        if not s.get("ours") or not s.get("fixed"):
            rows.append({"dataset": name, "error": (runs.get("ours") or {}).get("error")})
            continue
        o, f = s["ours"], s["fixed"]
        fe = d["runs"][key]["ours"]["runs"][0]["frontend_flops"]
        row = {
            "dataset": name,
            "ours_acc": o["final_acc"]["mean"], "fixed_acc": f["final_acc"]["mean"],
            "acc_diff_points": 100 * (o["final_acc"]["mean"] - f["final_acc"]["mean"]),
            "inference_flops_ratio": o["inference_flops"]["mean"] / f["inference_flops"]["mean"],
            "inference_flops_ratio_with_frontend": (o["inference_flops"]["mean"] + fe) / (f["inference_flops"]["mean"] + fe),
            "train_flops_ratio": o["train_flops"]["mean"] / f["train_flops"]["mean"],
        }
        for m in ("random", "herding", "knn", "ncm", "naive", "joint"):
            if s.get(m):
                row["vs_%s_points" % m] = 100 * (o["final_acc"]["mean"] - s[m]["final_acc"]["mean"])
        rows.append(row)
    ok = [r for r in rows if "error" not in r]
    mean = {}
    if ok:
        for k in ok[0]:
            if k != "dataset":
                vals = [r[k] for r in ok if k in r]
                mean[k] = float(np.mean(vals))
    claims = []
    if ok:
        claims.append({"claim": "ours within 1 point of fixed (mean over data sets)",
                       "value": mean["acc_diff_points"], "met": mean["acc_diff_points"] >= -1.0})
        claims.append({"claim": "ours <= 45 % of fixed's inference FLOPs (trainable part, mean)",
                       "value": mean["inference_flops_ratio"], "met": mean["inference_flops_ratio"] <= 0.45})
        claims.append({"claim": "ours <= 45 % of fixed's inference FLOPs (front-end included, mean)",
                       "value": mean["inference_flops_ratio_with_frontend"],
                       "met": mean["inference_flops_ratio_with_frontend"] <= 0.45})
        if "vs_random_points" in mean:
            # distilled vs random at equal bytes, both with the fixed network
            vals = []
            for name, d in results["datasets"].items():
                s = d["runs"][key]
                if s.get("fixed", {}).get("summary") and s.get("random", {}).get("summary"):
                    vals.append(100 * (s["fixed"]["summary"]["final_acc"]["mean"] - s["random"]["summary"]["final_acc"]["mean"]))
            claims.append({"claim": "distilled replay >= random exemplars at equal bytes (fixed network, mean)",
                           "value": float(np.mean(vals)) if vals else None, "met": bool(vals) and np.mean(vals) >= 0,
                           "per_dataset_points": vals})
        if "vs_knn_points" in mean:
            per = {r["dataset"]: r.get("vs_knn_points") for r in ok}
            claims.append({"claim": "ours above kNN at equal bytes on every data set",
                           "value": min(v for v in per.values() if v is not None),
                           "met": all(v is not None and v > 0 for v in per.values()), "per_dataset_points": per})
        # the accuracy issue's goals, per data set: the value is the worst data set's margin
        claims.append(_every(ok, "acc_diff_points", -1.0, "ours within 1 point of fixed on every data set"))
        for m, what in (("ncm", "nearest class mean"), ("herding", "herding exemplars at equal bytes"),
                        ("random", "random exemplars at equal bytes")):
            if "vs_%s_points" % m in mean:
                claims.append(_every(ok, "vs_%s_points" % m, 0.0, "ours >= %s on every data set" % what))
        claims.append({"claim": "ours <= 43 % of fixed's inference FLOPs (trainable part, mean)",
                       "value": mean["inference_flops_ratio"], "met": mean["inference_flops_ratio"] <= 0.43})
    jr = results.get("joint_rule") or {}
    if "mean_acc_diff_points" in jr:
        claims.append({"claim": "the same two, growth rules chosen jointly on validation (run on test): ours - fixed, "
                                "points", "value": jr["mean_acc_diff_points"], "met": jr["mean_acc_diff_points"] >= -1.0})
        claims.append({"claim": "the same two, growth rules chosen jointly on validation (run on test): inference "
                                "FLOPs ratio", "value": jr["mean_inference_flops_ratio"],
                       "met": jr["mean_inference_flops_ratio"] <= 0.45})
    return {"memory_percent": st["memory_percent"], "rows": rows, "mean": mean, "claims": claims,
            "joint_choice": joint_choice(results), "narrowest_width": narrowest_widths(results)}


def _every(rows, key, floor, claim):
    """A claim that holds on every data set: value = the smallest margin, in points."""
    per = {r["dataset"]: r.get(key) for r in rows}
    vals = [v for v in per.values() if v is not None]
    return {"claim": claim, "value": min(vals) if vals else None,
            "met": bool(vals) and len(vals) == len(per) and min(vals) >= floor, "per_dataset_points": per}
