#!/usr/bin/env python3
"""Regenerate datasets/examples/ (committed; run from anywhere: python3 make_examples.py).

alpaca_clean.jsonl / alpaca_clean.csv: the same 20 clean alpaca rows in two formats.
chat_clean.jsonl: 10 clean conversations (OpenAI messages format).
flawed.jsonl: 30 alpaca rows, exactly 5 with deliberate defects (the tutorial's exercise):
  row 7  (line 8)  missing field      - no "output"
  row 12 (line 13) duplicate          - same instruction and input as row 3
  row 18 (line 19) empty output       - "output": ""
  row 23 (line 24) extreme length     - an output about 20x the median
  row 27 (line 28) format inconsistent - the output ends with trailing spaces
"""
import csv, json, os

HERE = os.path.dirname(os.path.abspath(__file__))

CLEAN = [
    ("Give three tips for staying healthy.", "",
     "Eat a balanced diet with plenty of vegetables, fruit and whole grains. Move for at least thirty minutes on most days. Sleep seven to nine hours each night."),
    ("What are the three primary colors of light?", "",
     "The three primary colors of light are red, green and blue. Mixing them in different amounts produces every other color a screen can show."),
    ("Translate the sentence into French.", "The library opens at nine in the morning.",
     "La bibliothèque ouvre à neuf heures du matin."),
    ("Classify the animal as a mammal, bird, reptile or fish.", "Penguin",
     "A penguin is a bird. It has feathers and lays eggs, even though it cannot fly."),
    ("Explain why the sky looks blue.", "",
     "Sunlight is scattered by the molecules in the air, and shorter blue wavelengths scatter much more than red ones. That scattered blue light reaches our eyes from every direction of the sky."),
    ("Rewrite the sentence in the passive voice.", "The committee approved the new budget.",
     "The new budget was approved by the committee."),
    ("Summarize the paragraph in one sentence.",
     "Bees visit flowers to collect nectar and pollen. While they move from flower to flower, pollen sticks to their bodies and is carried to other plants, which allows those plants to produce seeds and fruit.",
     "Bees pollinate plants by carrying pollen between flowers while they collect food."),
    ("Name the largest planet in the solar system.", "",
     "Jupiter is the largest planet in the solar system. Its mass is more than twice that of all the other planets combined."),
    ("Write a haiku about autumn rain.", "",
     "Cold rain on the roof.\nRed leaves float down the gutter.\nThe kettle is warm."),
    ("Convert the temperature from Celsius to Fahrenheit.", "25 degrees Celsius",
     "25 degrees Celsius is 77 degrees Fahrenheit, since 25 times 9 divided by 5, plus 32, equals 77."),
    ("List four renewable sources of energy.", "",
     "1. Solar power.\n2. Wind power.\n3. Hydroelectric power.\n4. Geothermal energy."),
    ("Explain what a prime number is.", "",
     "A prime number is a whole number greater than one whose only divisors are one and itself. For example, 7 is prime, while 9 is not because it can be divided by 3."),
    ("Suggest a name for a small bakery that sells bread and pastries.", "",
     "Morning Crust is a friendly name that suggests fresh bread baked early every day."),
    ("Correct the grammar in the sentence.", "She don't like going to the cinema on weekdays.",
     "She doesn't like going to the cinema on weekdays."),
    ("Describe the water cycle in three steps.", "",
     "Water evaporates from oceans and lakes when the sun heats it. The vapor cools and condenses into clouds. The water then falls back to the ground as rain or snow."),
    ("Find the odd one out.", "apple, banana, carrot, cherry",
     "Carrot is the odd one out, because it is a vegetable while the others are fruits."),
    ("Give an example of a simile.", "",
     "Her laugh was as bright as a summer morning. A simile compares two things using the word like or as."),
    ("Explain the difference between weather and climate.", "",
     "Weather is the state of the atmosphere over hours or days, such as a rainy afternoon. Climate is the typical pattern of weather in a region over many years."),
    ("Calculate the area of a rectangle.", "Length 8 meters, width 5 meters",
     "The area is 40 square meters, because the area of a rectangle is its length multiplied by its width."),
    ("Recommend a habit that helps people focus while studying.", "",
     "Work in blocks of twenty-five minutes with a short break after each one. Putting the phone in another room during each block removes the most common distraction."),
]

CHAT = [
    [("system", "You are a concise assistant for a hardware store."),
     ("user", "Which screws should I use to hang a shelf on drywall?"),
     ("assistant", "Use drywall anchors rated for the shelf's load, or drive wood screws into a stud. A stud finder shows you where the studs are.")],
    [("user", "What is the capital of Australia?"),
     ("assistant", "The capital of Australia is Canberra.")],
    [("user", "Can you help me plan a short workout?"),
     ("assistant", "Sure. How much time do you have, and do you have any equipment?"),
     ("user", "About twenty minutes and no equipment."),
     ("assistant", "Do three rounds of ten squats, ten push-ups, twenty lunges and a one-minute plank, resting one minute between rounds.")],
    [("system", "Answer in plain English for beginners."),
     ("user", "What does a compiler do?"),
     ("assistant", "A compiler translates code written by people into instructions the computer's processor can run directly.")],
    [("user", "Give me a synonym for happy."),
     ("assistant", "Cheerful is a common synonym for happy.")],
    [("user", "How many minutes are in a day?"),
     ("assistant", "A day has 1440 minutes, because 24 hours times 60 minutes is 1440.")],
    [("user", "Translate good night into Spanish."),
     ("assistant", "Good night in Spanish is buenas noches.")],
    [("system", "You help people write polite messages."),
     ("user", "Write a short note to decline a meeting on Friday."),
     ("assistant", "Thank you for the invitation. Unfortunately I cannot attend on Friday, but I would be glad to meet early next week if that works for you.")],
    [("user", "Why do cats purr?"),
     ("assistant", "Cats purr when they are content, but also when they are stressed or hurt. Purring seems to calm them and may even help their bodies heal.")],
    [("user", "What is the boiling point of water at sea level?"),
     ("assistant", "Water boils at 100 degrees Celsius, or 212 degrees Fahrenheit, at sea level.")],
]

# Flawed: 30 clean-looking rows, then five of them broken on purpose.
FLAWED = CLEAN + [
    ("Name two instruments in a string quartet.", "", "A string quartet has two violins, a viola and a cello."),
    ("Explain what photosynthesis produces.", "", "Photosynthesis produces glucose and oxygen from carbon dioxide and water, using the energy of sunlight."),
    ("Give a word that rhymes with light.", "", "Night rhymes with light."),
    ("State the freezing point of water in Fahrenheit.", "", "Water freezes at 32 degrees Fahrenheit."),
    ("Describe a good way to learn new vocabulary.", "", "Review a few new words every day and use each of them in a sentence of your own."),
    ("Explain what a noun is.", "", "A noun is a word that names a person, place, thing or idea, such as teacher, city or freedom."),
    ("Name the longest river in Africa.", "", "The Nile is usually named as the longest river in Africa."),
    ("Suggest a healthy breakfast.", "", "Oatmeal with fresh berries and a spoonful of yogurt is a healthy breakfast."),
    ("Explain why leaves change color in autumn.", "", "Trees stop making chlorophyll as days get shorter, so the green fades and yellow and orange pigments show through."),
    ("Give an example of a renewable resource.", "", "Wood from a managed forest is a renewable resource, because new trees can be planted to replace the ones cut down."),
]
assert len(FLAWED) == 30

def alpaca(rows):
    return [{"instruction": i, "input": x, "output": o} for i, x, o in rows]

def write_jsonl(name, objs):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for o in objs:
            f.write(json.dumps(o, ensure_ascii=False) + "\n")

write_jsonl("alpaca_clean.jsonl", alpaca(CLEAN))
with open(os.path.join(HERE, "alpaca_clean.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")  # RFC 4180 line ends
    w.writerow(["instruction", "input", "output"])
    for i, x, o in CLEAN:
        w.writerow([i, x, o])
write_jsonl("chat_clean.jsonl", [{"messages": [{"role": r, "content": c} for r, c in conv]} for conv in CHAT])

flawed = alpaca(FLAWED)
del flawed[7]["output"]                                        # missing field
flawed[12] = dict(flawed[3], output="Un pingouin est un oiseau.")  # duplicate instruction + input (of row 3)
flawed[18]["output"] = ""                                      # empty output
flawed[23]["output"] = " ".join([flawed[23]["output"]] * 20)     # extreme length
flawed[27]["output"] = flawed[27]["output"] + "   "            # format: trailing whitespace
write_jsonl("flawed.jsonl", flawed)
