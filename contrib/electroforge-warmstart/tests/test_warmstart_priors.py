"""Mapping earlier campaign files onto a new design space (no tensorflow): by name, dropping or
clipping points outside the new bounds, filling held-fixed parameters, standardising per file."""
from __future__ import annotations

import numpy as np
import pytest
from warmstart_problems import write_campaign

from electroforge import DesignSpace, get_registry
from electroforge.errors import InputFileError, ValidationError
from electroforge_warmstart.priors import load_prior_observations

OLD = DesignSpace.from_bounds({"am_mass_fraction": (0.85, 0.97), "porosity": (0.25, 0.5)})
NEW = DesignSpace.from_bounds({"porosity": (0.3, 0.5), "am_mass_fraction": (0.85, 0.97), "binder_adhesion": (0.0, 1.0)})


@pytest.fixture
def old_file(tmp_path):
    params = [{"am_mass_fraction": 0.9, "porosity": p} for p in (0.26, 0.35, 0.45, 0.49)]
    write_campaign(tmp_path / "old.nc", OLD, params, [10.0, 20.0, 30.0, 0.0], failed=[False, False, False, True])
    return tmp_path / "old.nc"


def test_prior_rows_are_mapped_by_name_and_points_outside_the_new_bounds_dropped(old_file):
    prior = load_prior_observations([old_file], NEW, fixed={"binder_adhesion": 0.5})
    assert prior.sources == ((str(old_file), 3, 4),)  # porosity 0.26 < 0.3 dropped
    np.testing.assert_allclose(prior.x_unit[:, 0], [0.25, 0.75, 0.95])  # porosity, new bounds
    np.testing.assert_allclose(prior.x_unit[:, 1], 5 / 12)
    np.testing.assert_allclose(prior.x_unit[:, 2], 0.5)
    # standardised over the file's successes (10, 20, 30): the failure sits below the worst
    z = (np.array([20.0, 30.0]) - 20.0) / np.std([10.0, 20.0, 30.0])
    np.testing.assert_allclose(prior.targets[:2], z)
    assert prior.targets[2] < z.min() - 1.0


def test_prior_points_outside_can_be_clipped_instead(old_file):
    prior = load_prior_observations(str(old_file), NEW, outside="clip", fixed={"binder_adhesion": 0.5})
    assert len(prior) == 4 and prior.x_unit[0, 0] == 0.0


def test_a_parameter_the_prior_campaign_lacks_is_a_one_line_error_naming_it(old_file):
    with pytest.raises(ValidationError, match="binder_adhesion.*prior_fixed") as err:
        load_prior_observations([old_file], NEW)
    assert "\n" not in str(err.value)


def test_a_missing_prior_file_is_a_one_line_input_error(tmp_path):
    with pytest.raises(InputFileError, match="no such campaign file"):
        load_prior_observations([tmp_path / "nope.nc"], OLD)


def test_trieste_warm_is_registered_through_the_entry_point_and_validates_options(old_file):
    reg = get_registry()
    assert "trieste-warm" in reg.names("optimizer")
    with pytest.raises(ValidationError, match="prior_outside"):
        reg.create("optimizer", "trieste-warm", space=OLD, seed=0, prior_campaigns=[str(old_file)], prior_outside="wrap")
    with pytest.raises(ValidationError, match="prior_noise_variance"):
        reg.create("optimizer", "trieste-warm", space=OLD, seed=0, prior_noise_variance=-1)
    opt = reg.create("optimizer", "trieste-warm", space=OLD, seed=0, prior_campaigns=[str(old_file)])
    assert opt.n_initial == 0 and len(opt.prior) == 4
