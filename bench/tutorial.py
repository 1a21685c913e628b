"""The tutorial's own code, step by step as published, for comparison (not part of fashionkit).

Run by bench/run.py in its own process, with KERAS_HOME pointing at a folder whose
``datasets/fashion-mnist`` holds the four files, so ``load_data`` reads them from disk. The only
changes from the tutorial are those Keras 3 requires (``metrics=["accuracy"]`` as a list) and
the timing and JSON output at the end.
"""

import json
import sys
import time

import keras
from sklearn.model_selection import train_test_split

(train_input, train_target), (test_input, test_target) = keras.datasets.fashion_mnist.load_data()
train_scaled = train_input / 255.0
train_scaled = train_scaled.reshape(-1, 28 * 28)
train_scaled, val_scaled, train_target, val_target = train_test_split(
    train_scaled, train_target, test_size=0.2, random_state=42
)
dense = keras.layers.Dense(10, activation="softmax", input_shape=(784,))
model = keras.Sequential([dense])
model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
start = time.perf_counter()
model.fit(
    train_scaled, train_target, epochs=5, verbose=int(sys.argv[1]) if len(sys.argv) > 1 else 1
)
fit_seconds = time.perf_counter() - start
loss, accuracy = model.evaluate(val_scaled, val_target, verbose=0)
print(json.dumps({"fit_seconds": fit_seconds, "val_accuracy": accuracy}))
