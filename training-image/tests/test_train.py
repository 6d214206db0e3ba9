import io
import unittest
from dataclasses import replace

import numpy as np
import torch

import context  # noqa: F401
from modelops_train.data import SyntheticSpec, generate
from modelops_train.export import inference_copy
from modelops_train.hyperparameters import Hyperparameters
from modelops_train.errors import JobInputError
from modelops_train.log import JsonLogger
from modelops_train.train import (
    FraudMLP, Runtime, fit, plan_training, prepare_for_training, scaled_learning_rate, stratified_split, warmup_cosine,
)


class ScheduleTest(unittest.TestCase):
    def test_learning_rate_scales_from_a_global_batch_of_256(self):
        self.assertAlmostEqual(scaled_learning_rate(1e-3, 1024, "sqrt"), 2e-3)
        self.assertAlmostEqual(scaled_learning_rate(1e-3, 1024, "linear"), 4e-3)
        self.assertAlmostEqual(scaled_learning_rate(1e-3, 1024, "none"), 1e-3)

    def test_warmup_ramps_linearly_then_decays_to_zero(self):
        multipliers = [warmup_cosine(step, warmup_steps=4, total_steps=20) for step in range(20)]
        self.assertEqual(multipliers[:4], [0.25, 0.5, 0.75, 1.0])
        self.assertTrue(all(a >= b for a, b in zip(multipliers[3:], multipliers[4:])))
        self.assertAlmostEqual(warmup_cosine(20, 4, 20), 0.0)

    def test_plan_gives_every_process_the_same_number_of_steps(self):
        plan = plan_training(train_rows=10_001, hp=Hyperparameters(batch_size=1000, epochs=2, warmup_fraction=0.1), world_size=4)
        self.assertEqual((plan.shard_rows, plan.steps_per_epoch, plan.total_steps, plan.warmup_steps), (2500, 3, 6, 1))
        self.assertEqual(plan.global_batch_size, 4000)

    def test_plan_caps_the_batch_at_the_shard(self):
        self.assertEqual(plan_training(train_rows=100, hp=Hyperparameters(batch_size=4096), world_size=1).batch_size, 100)


class ModelTest(unittest.TestCase):
    def test_stratified_split_keeps_both_classes_in_both_parts(self):
        dataset = generate(SyntheticSpec(rows=1000, seed=1, fraud_rate=0.02))
        split = stratified_split(dataset, val_fraction=0.2, seed=3)
        self.assertEqual((len(split.train), len(split.validation)), (800, 200))
        self.assertEqual((int(split.train.labels.sum()), int(split.validation.labels.sum())), (16, 4))

    def test_standardisation_is_part_of_the_model(self):
        rng = np.random.default_rng(0)
        raw = rng.normal(loc=50.0, scale=10.0, size=(8, 3)).astype(np.float32)
        mean, std = raw.mean(axis=0), np.array([10.0, 0.0, 2.0])  # a zero std must not divide by zero
        model = FraudMLP(mean, std, hidden=4)
        standardised = (torch.as_tensor(raw) - torch.as_tensor(mean)) / torch.tensor([10.0, 1.0, 2.0])
        torch.testing.assert_close(model(torch.as_tensor(raw)), model.layers(standardised))

    def test_an_untrained_model_predicts_the_class_prior(self):
        model = FraudMLP(np.zeros(3), np.ones(3), hidden=4, positive_rate=0.03)
        torch.nn.init.zeros_(model.layers[-1].weight)  # isolate the output bias
        torch.testing.assert_close(inference_copy(model)(torch.randn(2, 3)), torch.tensor([[0.97, 0.03]] * 2))

    def test_inference_copy_outputs_probabilities_and_leaves_the_original_alone(self):
        model = FraudMLP(np.zeros(3), np.ones(3), hidden=4).train()
        probabilities = inference_copy(model)(torch.randn(5, 3))
        torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))
        self.assertTrue(model.training)


class FitTest(unittest.TestCase):
    """Tiny CPU fits: the loop's contracts, not its accuracy (the jest test trains for real)."""

    def setUp(self):
        self.split = stratified_split(generate(SyntheticSpec(rows=1500, seed=2)), val_fraction=0.2, seed=1)
        self.hp = Hyperparameters(epochs=2, batch_size=128, hidden=16, seed=11)
        self.log = JsonLogger(stream=io.StringIO())

    def fit(self, hp: Hyperparameters):
        return fit(self.split, hp, Runtime(device=torch.device("cpu")), self.log)

    def test_the_seed_makes_training_reproducible(self):
        first, second = self.fit(self.hp), self.fit(self.hp)
        self.assertEqual(first.train_loss, second.train_loss)
        for a, b in zip(first.model.state_dict().values(), second.model.state_dict().values()):
            torch.testing.assert_close(a, b, rtol=0, atol=0)

    def test_bf16_autocast_trains_and_keeps_float32_weights(self):
        result = self.fit(replace(self.hp, amp="bf16"))
        self.assertTrue(np.isfinite(result.train_loss))
        self.assertEqual({p.dtype for p in result.model.parameters()}, {torch.float32})

    def test_history_has_one_entry_per_epoch(self):
        result = self.fit(self.hp)
        self.assertEqual([entry["epoch"] for entry in result.history], [1, 2])
        self.assertEqual(result.plan.total_steps, 2 * 10)  # 1200 training rows in batches of 128

    @unittest.skipIf(hasattr(torch, "compile"), "this torch has torch.compile")
    def test_compile_on_an_old_torch_is_an_input_error(self):
        with self.assertRaisesRegex(JobInputError, "compile=true needs torch >= 2.0"):
            prepare_for_training(FraudMLP(np.zeros(3), np.ones(3), 4), replace(self.hp, compile=True), Runtime(torch.device("cpu")))


if __name__ == "__main__":
    unittest.main()
