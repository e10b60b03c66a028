"""Value objects validate at construction and name the field and value in their errors."""
import math

import numpy as np
import pytest

from electroforge import ConstantCurrent, ConstantPower, Electrode, Metrics, Microstructure, protocol_from_string
from electroforge.errors import ValidationError
from electroforge.materials import am_mass_fraction_from_volumes, solid_volume_fractions


def metrics(**kw):
    base = dict(volume_fractions={"pore": 0.3, "active": 0.6, "binder": 0.1}, specific_surface_area_per_m=5e5,
                binder_coverage=0.2, tortuosity_factor=2.0, effective_conductivity_S_per_m=0.1)
    base.update(kw)
    return Metrics(**base)


def test_microstructure_rejects_2d_labels():
    with pytest.raises(ValidationError, match=r"labels.*3D"):
        Microstructure(np.zeros((4, 4), np.uint8), 4e-7)


def test_microstructure_rejects_labels_outside_phases():
    labels = np.zeros((4, 4, 4), np.uint8)
    labels[0, 0, 0] = 3
    with pytest.raises(ValidationError, match=r"label 3 is outside the declared phases"):
        Microstructure(labels, 4e-7)


def test_microstructure_volume_fractions_exact():
    labels = np.zeros((10, 10, 10), np.uint8)
    labels[:5] = 1
    labels[5:7] = 2
    vf = Microstructure(labels, 1e-6).volume_fractions()
    assert vf == {"pore": 0.3, "active": 0.5, "binder": 0.2}


def test_microstructure_labels_are_read_only():
    ms = Microstructure(np.zeros((3, 3, 3), np.uint8), 1e-6)
    with pytest.raises(ValueError):
        ms.labels[0, 0, 0] = 1


def test_metrics_porosity_out_of_range_names_field():
    with pytest.raises(ValidationError, match=r"volume_fractions\['pore'\]=1.3"):
        metrics(volume_fractions={"pore": 1.3, "active": -0.3})


def test_metrics_fractions_must_sum_to_one():
    with pytest.raises(ValidationError, match="sum to"):
        metrics(volume_fractions={"pore": 0.3, "active": 0.3})


def test_metrics_tortuosity_below_one_rejected_and_inf_allowed():
    with pytest.raises(ValidationError, match="tortuosity_factor=0.5"):
        metrics(tortuosity_factor=0.5)
    m = metrics(tortuosity_factor=math.inf, effective_conductivity_S_per_m=0.0)
    assert not m.percolating and m.effective_diffusivity_ratio == 0.0


def test_metrics_json_round_trip_with_inf():
    m = metrics(tortuosity_factor=math.inf)
    d = m.to_dict()
    assert d["tortuosity_factor"] == "inf"
    assert Metrics.from_dict(d) == m
    d["tortuosity_factor"] = None
    assert math.isinf(Metrics.from_dict(d).tortuosity_factor)


def test_metrics_diffusivity_ratio_is_porosity_over_tau():
    assert metrics().effective_diffusivity_ratio == pytest.approx(0.15)


def test_electrode_needs_exactly_one_of_thickness_or_loading():
    with pytest.raises(ValidationError, match="exactly one"):
        Electrode(metrics())
    with pytest.raises(ValidationError, match="exactly one"):
        Electrode(metrics(), thickness_m=5e-5, mass_loading_kg_per_m2=0.2)
    with pytest.raises(ValidationError, match="thickness_m"):
        Electrode(metrics(), thickness_m=-1.0)


def test_protocols_parse_and_label():
    assert protocol_from_string("1C") == ConstantCurrent(1.0)
    assert protocol_from_string("0.2kW") == ConstantPower(200.0)
    assert ConstantPower(10).label == "10W" and ConstantCurrent(0.5).label == "0.5C"
    with pytest.raises(ValidationError, match="'fast'"):
        protocol_from_string("fast")
    with pytest.raises(ValidationError, match="power_W"):
        ConstantPower(-1)


@pytest.mark.parametrize("w,eps", [(0.85, 0.25), (0.94, 0.35), (0.97, 0.5)])
def test_mass_fraction_volume_fraction_round_trip(w, eps):
    am, cbd = solid_volume_fractions(w, eps)
    assert am + cbd + eps == pytest.approx(1.0)
    assert am_mass_fraction_from_volumes(am, cbd) == pytest.approx(w)
    assert cbd > 0 and am > cbd


def test_microstructure_does_not_freeze_the_callers_array():
    arr = np.zeros((3, 3, 3), np.uint8)
    Microstructure(arr, 1e-6)
    arr[0, 0, 0] = 1  # still writable
    assert arr[0, 0, 0] == 1
