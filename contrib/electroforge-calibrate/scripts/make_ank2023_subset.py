"""Write the packaged subset of Ank et al. 2023's three-electrode T-cell pOCV data.

Source: ``T-cell_pOCV_data.txt`` of the supplementary material of M. Ank et al., "Lithium-Ion
Cells in Automotive Applications: Tesla 4680 Cylindrical Cell Teardown and Characterization",
J. Electrochem. Soc. 170, 120536 (2023), doi:10.1149/1945-7111/ad14d0 (mediaTUM record 1725661),
as redistributed in PyBOP's examples (``examples/data/Tesla_4680/``, BSD-3-Clause). The file is
tab-separated with decimal commas; its columns ``time/s``, ``I/mA``, ``Ewe-Ece/V`` (full cell),
``Ewe/VReal`` and ``Ece/VReal`` (cathode and anode against the lithium reference, shifted to the
Li/Li+ scale) are kept, converted to SI, with the current's sign flipped to the battery
convention (positive on discharge). Each step (the charge, then the discharge) is decimated to
``--rows`` samples evenly spaced in charge passed, first and last sample included.

    python scripts/make_ank2023_subset.py path/to/T-cell_pOCV_data.txt \
        -o electroforge_calibrate/data/ank2023_tesla4680_tcell_pocv.csv
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

#: The T-cell's cathode area: 3.974845 mAh discharged = 4.220996 mAh/cm² (the file's own columns).
AREA_M2 = 3.974845117 / 4.220995601 * 1e-4

HEADER = """\
# Tesla 4680 (first generation) teardown: three-electrode T-cell, pOCV (~C/43) charge then discharge.
# Source: M. Ank et al., J. Electrochem. Soc. 170, 120536 (2023), doi:10.1149/1945-7111/ad14d0,
#   supplementary material (T-cell_pOCV_data.txt, mediaTUM record 1725661), as redistributed in
#   PyBOP's examples (examples/data/Tesla_4680, BSD-3-Clause). Cite the paper when you use it.
# Cell: cathode harvested from the 4680 (working electrode, single-sided) against the cell's own
#   anode (counter electrode), lithium reference; 0.092 mA on a {area_cm2:.4f} cm2 cathode.
# Subset: {rows} samples per step, evenly spaced in charge passed (scripts/make_ank2023_subset.py).
# Columns: step (charge|discharge); time_s; current_A (> 0 on discharge); voltage_V (full cell,
#   cathode - anode); cathode_potential_V and anode_potential_V (vs Li/Li+).
# electrode_area_m2: {area_m2:.6e}
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("-o", "--output", type=Path, required=True)
    ap.add_argument("--rows", type=int, default=300)
    args = ap.parse_args(argv)
    lines = args.source.read_text().replace(",", ".").splitlines()
    names = lines[0].split("\t")
    data = np.array([[float(x) for x in line.split("\t")] for line in lines[1:] if line.strip()])
    col = {n: data[:, names.index(n)] for n in names}
    current_A = -col["I/mA"] * 1e-3  # the file: negative on discharge
    out = [HEADER.format(area_cm2=AREA_M2 * 1e4, area_m2=AREA_M2, rows=args.rows),
           "step,time_s,current_A,voltage_V,cathode_potential_V,anode_potential_V\n"]
    sign = np.sign(current_A)
    starts = np.r_[0, np.flatnonzero(np.diff(sign) != 0) + 1, len(sign)]
    for a, b in zip(starts[:-1], starts[1:]):
        step = "discharge" if sign[a] > 0 else "charge"
        q = np.abs(col["Capacity/mA.h"][a:b])
        pick = np.unique(np.searchsorted(q, np.linspace(q[0], q[-1], args.rows)).clip(0, b - a - 1))
        for i in a + pick:
            out.append(f"{step},{col['time/s'][i]:.3f},{current_A[i]:.6e},{col['Ewe-Ece/V'][i]:.5f},"
                       f"{col['Ewe/VReal'][i]:.5f},{col['Ece/VReal'][i]:.5f}\n")
    args.output.write_text("".join(out))
    print(f"wrote {args.output} ({len(out) - 2} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
